"""Known vulnerabilities in requirements.txt (pip-audit), telling "none found" from "none checked".

pip-audit resolves requirements.txt with all its dependencies and asks PyPI's JSON API about each
release. A release that API does not answer for is skipped, and the run still says "No known
vulnerabilities found": behind a mirror that serves the package index but not that API, every
package is skipped and nothing at all was checked. So this exits

- 1 on a known vulnerability not listed in IGNORED (each listed one is explained in README.md);
- 1 when some packages were checked and others skipped (each skipped one is named);
- 1 when pip-audit fails (no report: it could not resolve the requirements, or reach the service);
- when the service answered for none of them: PyPI's project pages instead (below);
- 0 when every package was checked and none has a known vulnerability.

When the service answered for none, each package's PyPI project page (/pypi/<name>/json, which that
mirror does serve) is asked instead: it lists the advisories that affect the project's latest
release, so a package pinned at its latest release is checked that way; one pinned older is named as
not checked, under a PARTLY AUDITED banner (exit 0; with AUDIT_REQUIRED=1, 1). A known vulnerability
found there fails the run as above.
"""

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
# Advisories accepted for now, by id (PYSEC-..., GHSA-..., CVE-...), each explained in README.md.
IGNORED: dict[str, str] = {}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        ignores = [arg for vuln in IGNORED for arg in ("--ignore-vuln", vuln)]
        command = [sys.executable, "-m", "pip_audit", "-r", str(REQUIREMENTS), "--progress-spinner", "off"]
        # Further arguments go to pip-audit, e.g. `-s osv` for OSV's database instead of PyPI's.
        command += ["--format", "json", "--desc", "off", "--output", str(report), *ignores, *sys.argv[1:]]
        # Its messages only when it fails: otherwise it says "No known vulnerabilities found" even then.
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (our interpreter)
        if not report.exists():
            print(f"{done.stdout}{done.stderr}\npip-audit failed (exit {done.returncode}), no report.", file=sys.stderr)
            return 1
        dependencies = json.loads(report.read_text())["dependencies"]
    skipped = [d for d in dependencies if "skip_reason" in d]
    found = [(d, v) for d in dependencies for v in d.get("vulns", [])]
    for dependency, vuln in found:
        fixed = ", ".join(vuln["fix_versions"]) or "no fixed release"
        also = "".join(f", {alias}" for alias in vuln.get("aliases", []))
        print(f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']}{also} (fixed in: {fixed})")
    if found:
        return 1
    if skipped and len(skipped) == len(dependencies):
        vulnerable, unchecked = project_pages(dependencies)
        if vulnerable:
            return 1
        title = "PARTLY AUDITED" if unchecked else "AUDITED THROUGH PYPI'S PROJECT PAGES"
        print(
            f"\n{'!' * 78}\n{title}: pip-audit's service answered for none of the {len(dependencies)} packages "
            f"({skipped[0]['skip_reason']}).\nPyPI's project pages instead: {len(dependencies) - len(unchecked)} "
            f"packages at their latest release checked, none with a known vulnerability; {len(unchecked)} not "
            f"checked: {', '.join(unchecked) or 'none'}\n{'!' * 78}"
        )
        if not unchecked:
            return 0
        return 1 if os.environ.get("AUDIT_REQUIRED") == "1" else 0
    for dependency in skipped:
        print(f"NOT CHECKED {dependency['name']}: {dependency['skip_reason']}")
    if skipped:
        return 1
    print(f"No known vulnerabilities in the {len(dependencies)} packages of requirements.txt and their dependencies.")
    return 0


def project_pages(dependencies: list[dict]) -> tuple[list[str], list[str]]:
    """Each package against the advisories its PyPI project page lists for the latest release:
    (the vulnerable ones, printed; the ones not checked: pinned older than latest, or no answer)."""
    vulnerable, unchecked = [], []
    for dependency in dependencies:
        name = dependency["name"]
        # A skipped package's version is only in its reason: "... could not be audited: django (6.1.3)".
        version = dependency.get("version") or dependency["skip_reason"].rpartition("(")[2].rstrip(")")
        try:
            url = f"https://pypi.org/pypi/{name}/json"
            with urllib.request.urlopen(url, timeout=20) as answer:
                page = json.load(answer)
        except (OSError, ValueError) as error:
            unchecked.append(f"{name} {version} ({error})")
            continue
        latest = page["info"]["version"]
        if latest != version:
            unchecked.append(f"{name} {version} (latest {latest})")
            continue
        for vuln in page.get("vulnerabilities", []):
            if vuln.get("withdrawn") or vuln["id"] in IGNORED:
                continue
            fixed = ", ".join(vuln.get("fixed_in") or []) or "no fixed release"
            print(f"VULNERABLE {name} {version}: {vuln['id']} (fixed in: {fixed})")
            vulnerable.append(name)
    return vulnerable, unchecked


if __name__ == "__main__":
    sys.exit(main())
