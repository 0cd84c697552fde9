"""Academy's benchmark harness: `make bench` (= `python -m bench`); see bench/README.md."""


def open_session(app, user_id: int) -> str:
    """A session recorded on the server, as the sign-in form makes one: put the returned token
    in the cookie's "sid" next to "_user_id" (a cookie without it is refused)."""
    from academy.auth.models import User
    from academy.auth.services import start_session
    from academy.extensions import db

    with app.app_context():
        token = start_session(db.session.get(User, user_id))
        db.session.commit()
    return token
