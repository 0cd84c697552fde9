"""Academy's benchmark harness: `make bench` (= `python -m bench`); see bench/README.md."""
