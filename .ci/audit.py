"""Known vulnerabilities in requirements.txt (pip-audit), telling "none found" from "none checked".

pip-audit resolves requirements.txt with all its dependencies and asks PyPI's JSON API about each
release. A release that API does not answer for is skipped, and the run still says "No known
vulnerabilities found": behind a mirror that serves the package index but not that API, every
package is skipped and nothing at all was checked. So this exits

- 1 on a known vulnerability not listed in IGNORED (each listed one is explained in README.md);
- 1 when some packages were checked and others skipped (each skipped one is named);
- 1 when pip-audit fails (no report: it could not resolve the requirements, or reach the service);
- 0 with a NOT AUDITED banner when the service answered for none of them (AUDIT_REQUIRED=1: 1);
- 0 when every package was checked and none has a known vulnerability.
"""

import json
import os
import subprocess
import sys
import tempfile
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
        print(
            f"\n{'!' * 78}\nNOT AUDITED: the vulnerability service answered for none of the {len(dependencies)} "
            f"packages, so nothing was checked.\nEvidence (the first): {skipped[0]['skip_reason']}\n{'!' * 78}"
        )
        return 1 if os.environ.get("AUDIT_REQUIRED") == "1" else 0
    for dependency in skipped:
        print(f"NOT CHECKED {dependency['name']}: {dependency['skip_reason']}")
    if skipped:
        return 1
    print(f"No known vulnerabilities in the {len(dependencies)} packages of requirements.txt and their dependencies.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
