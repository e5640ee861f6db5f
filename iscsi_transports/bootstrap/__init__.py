"""The directory ``iscsi-transports run`` puts first on ``PYTHONPATH``.

It holds one module meant to be imported from there, ``sitecustomize``,
which Python's ``site`` imports at start-up, before the program's own
code: it installs :func:`iscsi_transports.adopt.install`'s import hook,
then runs the ``sitecustomize`` it shadows, if any, so a distribution's or
a site's own start-up code still runs.  This file only makes the directory
a package, so that it is installed with the library.
"""
