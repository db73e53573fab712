"""The web shell: public results are static files (a published bundle), served by any web
server or CDN; :mod:`canvass.web.static` serves one for the demo and for testing."""
