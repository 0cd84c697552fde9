"""Run by Python at start-up in the processes tests start (gunicorn, flask) when
ACADEMY_TEST_CLOCK is set; see academy_test_clock.py."""

import academy_test_clock

academy_test_clock.start()
