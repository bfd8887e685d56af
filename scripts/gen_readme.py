"""Build each addon's README.md from its readme/ fragments, as OCA's oca-gen-addon-readme does.

python scripts/gen_readme.py           # write addons/*/README.md
python scripts/gen_readme.py --check   # fail when a README.md is missing or out of date
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = [
    ("DESCRIPTION", None),
    ("INSTALL", "Installation"),
    ("CONFIGURE", "Configuration"),
    ("USAGE", "Usage"),
    ("ROADMAP", "Known issues / Roadmap"),
    ("CONTRIBUTORS", "Contributors"),
]


def render(addon):
    manifest = ast.literal_eval((addon / "__manifest__.py").read_text())
    parts = [
        "<!-- Generated from readme/ by scripts/gen_readme.py: edit the fragments. -->",
        f"# {manifest['name']}",
        f"{manifest.get('summary', '')}".strip(),
        f"Version {manifest['version']} · License {manifest['license']} · "
        f"Depends on {', '.join(manifest.get('depends', []))}",
    ]
    for fragment, title in SECTIONS:
        path = addon / "readme" / f"{fragment}.md"
        if not path.is_file():
            continue
        text = path.read_text().strip()
        if not text:
            continue
        if title:
            parts.append(f"## {title}")
        parts.append(text)
    return "\n\n".join(part for part in parts if part) + "\n"


def main(check):
    stale = []
    for manifest in sorted(ROOT.glob("addons/*/__manifest__.py")):
        addon = manifest.parent
        target = addon / "README.md"
        content = render(addon)
        if check:
            if not target.is_file() or target.read_text() != content:
                stale.append(str(target.relative_to(ROOT)))
        else:
            target.write_text(content)
    if stale:
        print("out of date (run: python scripts/gen_readme.py): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
