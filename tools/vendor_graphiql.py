"""Vendors GraphiQL's assets from the npm registry into the app's static files.

`make vendor-graphiql` (after upgrading graphene-django): reads the versions graphene-django
pins (GraphQLView.*_version), fetches each package with `npm pack` (the npm registry, nothing
else), copies the files its template loads into enrollments/static/enrollments/graphiql/ and
checks each against graphene-django's pinned SHA-256 (GraphQLView.*_sri). Not part of the app.
"""

import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import django
from django.conf import settings

settings.configure()  # graphene_django reads settings on import; none of them matter here
django.setup()

from graphene_django.views import GraphQLView as View  # noqa: E402

TARGET = Path(__file__).resolve().parents[1] / "enrollments/static/enrollments/graphiql"

# (package, version, path in the package, file name here, the SRI it must match or None)
ASSETS = [
    ("whatwg-fetch", View.whatwg_fetch_version, "dist/fetch.umd.js", "fetch.umd.js",
     View.whatwg_fetch_sri),
    ("react", View.react_version, "umd/react.production.min.js", "react.production.min.js",
     View.react_sri),
    ("react-dom", View.react_version, "umd/react-dom.production.min.js",
     "react-dom.production.min.js", View.react_dom_sri),
    ("graphiql", View.graphiql_version, "graphiql.min.js", "graphiql.min.js", View.graphiql_sri),
    ("graphiql", View.graphiql_version, "graphiql.min.js.map", "graphiql.min.js.map", None),
    ("graphiql", View.graphiql_version, "graphiql.min.css", "graphiql.min.css",
     View.graphiql_css_sri),
    ("graphiql", View.graphiql_version, "graphiql.min.css.map", "graphiql.min.css.map", None),
    ("graphql-ws", View.subscriptions_transport_ws_version, "umd/graphql-ws.min.js",
     "graphql-ws.min.js", View.subscriptions_transport_ws_sri),
    ("@graphiql/plugin-explorer", View.graphiql_plugin_explorer_version,
     "dist/graphiql-plugin-explorer.umd.js", "graphiql-plugin-explorer.umd.js",
     View.graphiql_plugin_explorer_sri),
    ("@graphiql/plugin-explorer", View.graphiql_plugin_explorer_version, "dist/style.css",
     "graphiql-plugin-explorer.css", View.graphiql_plugin_explorer_css_sri),
]  # fmt: skip


def sri(data: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()


def main() -> int:
    with tempfile.TemporaryDirectory() as work:
        packed: dict[str, Path] = {}
        for package, version, inner, name, expected in ASSETS:
            spec = f"{package}@{version}"
            if spec not in packed:
                command = ["npm", "pack", "--silent", spec]  # npm from PATH, fixed arguments
                out = subprocess.run(  # noqa: S603
                    command, cwd=work, check=True, capture_output=True, text=True
                ).stdout.split()[-1]
                unpacked = Path(work) / spec.replace("/", "_")
                with tarfile.open(Path(work) / out) as archive:
                    archive.extractall(unpacked, filter="data")
                packed[spec] = unpacked / "package"
            data = (packed[spec] / inner).read_bytes()
            if expected is not None and sri(data) != expected:
                print(f"{spec} {inner}: {sri(data)}, graphene-django pins {expected}")
                return 1
            (TARGET / name).write_bytes(data)
            print(f"{name} <- {spec}/{inner}")
        for spec, root in packed.items():
            for licence in root.glob("LICENSE*"):
                shutil.copy(licence, TARGET / "licenses" / f"{spec.split('/')[-1]}.LICENSE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
