"""Make a published asv dashboard viewable without a network connection.

asv's pages load jQuery, flot, Bootstrap and three small plugins from CDNs. This script
fetches the same libraries from the npm registry (``npm pack``, once, cached in
.asv/vendor), copies them next to the pages and points the pages at the copies:

    asv publish && python scripts/asv_offline.py && asv preview

Arguments: the published folder (default .asv/html, asv.conf.json's html_dir).
"""
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CACHE = ROOT / ".asv" / "vendor"
# The URL asv's pages name (its host and path's file name) -> (npm package, file in it).
# stupidtable 1.0.1 is on npm as stupid-table-plugin 1.1.3, the same API.
ASSETS = {
    "jquery-3.3.1.min.js": ("jquery@3.3.1", "package/dist/jquery.min.js"),
    "jquery.flot.min.js": ("flot@0.8.3", "package/jquery.flot.js"),
    "jquery.flot.time.min.js": ("flot@0.8.3", "package/jquery.flot.time.js"),
    "jquery.flot.selection.min.js": ("flot@0.8.3", "package/jquery.flot.selection.js"),
    "jquery.flot.categories.min.js": ("flot@0.8.3", "package/jquery.flot.categories.js"),
    "jquery.flot.orderBars.js": ("flot-orderbars@1.0.0", "package/js/jquery.flot.orderBars.js"),
    "stupidtable.min.js": ("stupid-table-plugin@1.1.3", "package/stupidtable.min.js"),
    "md5.min.js": ("blueimp-md5@2.19.0", "package/js/md5.min.js"),
    "bootstrap.min.js": ("bootstrap@3.1.1", "package/dist/js/bootstrap.min.js"),
    "bootstrap.min.css": ("bootstrap@3.1.1", "package/dist/css/bootstrap.min.css"),
}
# A whole <script> or <link> tag that loads one of them from a CDN.
TAG = re.compile(r'<(?:script|link)\b[^>]*?(?:src|href)="https://[^"]+/([^"/]+\.(?:js|css))"[^>]*>')
URL = re.compile(r'(src|href)="https://[^"]+/([^"/]+\.(?:js|css))"')
INTEGRITY = re.compile(r'\s(?:integrity|crossorigin|referrerpolicy)="[^"]*"')


def package(spec):
    """The npm tarball of ``spec`` (name@version), fetched once into CACHE."""
    CACHE.mkdir(parents=True, exist_ok=True)
    name, version = spec.rsplit("@", 1)
    tarball = CACHE / f"{name}-{version}.tgz"
    if not tarball.exists():
        subprocess.run(["npm", "pack", spec, "--silent"], cwd=CACHE, check=True,
                       capture_output=True)
    return tarball


def local_tag(tag):
    """The tag pointed at vendor/, without the CDN file's integrity hash: npm's build of the
    same version is not byte-identical, and the browser would refuse it."""
    tag = URL.sub(lambda m: f'{m[1]}="vendor/{m[2]}"', tag)
    return INTEGRITY.sub("", tag)


def vendor(html_dir):
    """Copy every asset into html_dir/vendor and rewrite the pages' CDN references."""
    target = html_dir / "vendor"
    target.mkdir(exist_ok=True)
    for local, (spec, member) in ASSETS.items():
        with tarfile.open(package(spec)) as tar, tar.extractfile(member) as src, \
                open(target / local, "wb") as dst:
            shutil.copyfileobj(src, dst)
    for page in html_dir.glob("*.html"):
        text = page.read_text()
        new = TAG.sub(lambda m: local_tag(m[0]) if m[1] in ASSETS else m[0], text)
        if new != text:
            page.write_text(new)


if __name__ == "__main__":
    folder = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".asv" / "html"
    if not (folder / "index.html").exists():
        sys.exit(f"{folder}: no published dashboard (run asv publish first)")
    vendor(folder)
    print(f"{folder}: every library is local (vendor/)")
