"""The public results site: pages, charts and maps rendered at publish time, and the
script that checks each page in its reader's browser."""
