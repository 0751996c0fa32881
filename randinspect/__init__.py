"""The ``randinspect`` command line: the layer above the domain (``scheduler``) and the service
(``api``). The domain never imports it, nor the service."""
