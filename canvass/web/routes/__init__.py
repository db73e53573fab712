"""The officials' application's routes, one router per part of the work. Documents come
first: ``/certificates/{sha}.pdf`` must match before the page ``/certificates/{sha}``."""

from canvass.web.routes import audits, board, county, documents, health, live, people, state

ROUTERS = [
    health.router,
    documents.router,
    people.router,
    county.router,
    board.router,
    state.router,
    audits.router,
    live.router,
]
