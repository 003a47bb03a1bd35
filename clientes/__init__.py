"""Code that runs on someone else's machine and talks to the platform over HTTP: the custodian's client
(``vmre custodio``), which checks everything the server says before it contributes its key share. It imports
``shared/`` (the cryptography) and never a service."""
