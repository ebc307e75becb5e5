"""The vendored htmx must be exactly the file npm publishes as htmx.org@2.0.11."""

import hashlib

from playground import STATIC_DIR

HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def test_vendored_htmx_is_the_published_2_0_11_file():
    digest = hashlib.sha256((STATIC_DIR / "htmx-2.0.11.min.js").read_bytes()).hexdigest()
    assert digest == HTMX_SHA256


def test_htmx_license_and_provenance_are_kept_beside_it():
    assert "Zero-Clause BSD" in (STATIC_DIR / "htmx.LICENSE").read_text()
    readme = (STATIC_DIR / "README.md").read_text()
    assert HTMX_SHA256 in readme and "npm pack htmx.org@2.0.11" in readme
