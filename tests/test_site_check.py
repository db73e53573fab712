"""The block each page carries for the in-browser check, as HTML (the browser side is in
test_check_page.py)."""

from __future__ import annotations

import json

from lxml import html

from canvass.publish.site.check import LogClaim, Witness, check_block, check_config, script_bytes


def test_the_configuration_survives_a_script_element_whatever_the_names() -> None:
    claim = LogClaim(
        log_size=41,
        root=bytes(range(32)),
        publication=41,
        operator="canvass.test/log+00000000+AAAA",
        witnesses=(Witness("</script><b>x", "w+1+AAAA", 3),),
    )
    config = check_config(claim, "contests/mayor.html", "../", ["contests/mayor.json"])
    block = str(check_block(config))
    assert "</script><b>" not in block
    doc = html.fromstring(f"<html><body>{block}</body></html>")
    (data,) = doc.xpath('//script[@id="canvass-log"]')
    assert json.loads(data.text) == config
    assert config["bundle"] == "../" and config["root"] == bytes(range(32)).hex()
    assert doc.xpath("//script[@src]")[0].get("src") == "../check.js"
    assert doc.xpath('//a[text()="how"]')[0].get("href") == "../how-to-check.html"


def test_a_page_at_the_root_loads_the_checker_beside_it() -> None:
    claim = LogClaim(log_size=1, root=bytes(32), publication=1, operator="k+0+A")
    block = check_block(check_config(claim, "index.html", ""))
    assert '<script src="check.js" defer></script>' in block
    assert json.loads(html.fromstring(str(block)).xpath("//script")[0].text)["bundle"] == "./"


def test_the_checker_ships_with_the_package() -> None:
    assert script_bytes().startswith(b"/*\n * Canvass: the results page checks itself")
