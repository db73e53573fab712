"""The guarded boundary every reader and loader decodes its input through.

::

    limits       how far a file may expand, each limit overridable by an environment variable
    text         UTF-8 text and CSV rows, and whole numbers written in them
    documents    JSON (plain or typed with msgspec) and XML, depth-limited
    archive      zip archives, member by member, within the limits
    spreadsheet  the first sheet of an .xlsx workbook, checked before the library allocates

Whatever bytes come in, what comes out is either the values asked for or one
:class:`~canvass.errors.CanvassError` naming the file, the place, what was expected and what
was found.
"""
