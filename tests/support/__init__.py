"""What tests share: databases and the broker (comun), each service on its test database (registro,
electronico, postal, computo, tablero), Belenios' reference tool (cripto) and the platform as processes (e2e).
Test modules import helpers from here, never from a conftest; each directory's conftest.py only makes the
fixtures of its support module available to the tests under it."""
