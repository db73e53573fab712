"""The demo election (the State of Lakeland), its generated CVRs, and the tamper drill:
apart from the product, which never imports them."""
