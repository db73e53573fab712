"""The officials' application's routes, one router per part of the work."""

from canvass.web.routes import audits, board, county, documents, people, state

ROUTERS = [
    people.router,
    county.router,
    board.router,
    state.router,
    audits.router,
    documents.router,
]
