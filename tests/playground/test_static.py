"""The vendored htmx and CodeMirror must be exactly the published and the rebuilt files."""

import hashlib
import json

from playground import STATIC_DIR

HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def test_vendored_htmx_is_the_published_2_0_11_file():
    digest = hashlib.sha256((STATIC_DIR / "htmx-2.0.11.min.js").read_bytes()).hexdigest()
    assert digest == HTMX_SHA256


def test_htmx_license_and_provenance_are_kept_beside_it():
    assert "Zero-Clause BSD" in (STATIC_DIR / "htmx.LICENSE").read_text()
    readme = (STATIC_DIR / "README.md").read_text()
    assert HTMX_SHA256 in readme and "npm pack htmx.org@2.0.11" in readme


CODEMIRROR_SHA256 = "7ee584f7ed40fb1e9857d702c85e8dcbaf7a77756619e5aff0d1173c6a2d4585"


def test_vendored_codemirror_is_the_bundle_the_build_script_makes():
    digest = hashlib.sha256((STATIC_DIR / "codemirror.bundle.js").read_bytes()).hexdigest()
    assert digest == CODEMIRROR_SHA256
    readme = (STATIC_DIR / "README.md").read_text()
    assert CODEMIRROR_SHA256 in readme and "npm run build" in readme


def test_codemirror_build_is_pinned_and_its_licences_are_kept():
    lock = json.loads((STATIC_DIR / "build" / "package-lock.json").read_text())
    package = json.loads((STATIC_DIR / "build" / "package.json").read_text())
    for name, version in package["devDependencies"].items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
    licences = (STATIC_DIR / "codemirror.LICENSE").read_text()
    for name in ("@codemirror/view", "@codemirror/lang-yaml", "@lezer/common", "style-mod", "w3c-keyname"):
        assert f"{name}@" in licences, name
    assert "Permission is hereby granted" in licences


def test_the_page_loads_nothing_from_elsewhere():
    for name in ("editor.js", "playground.js", "codemirror.bundle.js"):
        text = (STATIC_DIR / name).read_text()
        assert "https://cdn" not in text and "unpkg.com" not in text and "jsdelivr" not in text, name
