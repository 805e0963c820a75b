"""Does an app have credentials a browser sends on its own?

`credentials: true` only matters when the browser holds something for the API that it attaches by itself:
cookies (a session, a token in a cookie), HTTP authentication, a client certificate. A bearer token in the
`Authorization` header is added by the page's own code, so a foreign page has none to send.

`has_ambient_credentials(project, path)` answers for the package of `path` (its nearest `package.json`), and
errs towards yes: yes when there is no `package.json` to judge by, when a dependency of the package or of one
around it that its code uses names cookies, sessions or an authentication library, when it depends on another
package of the repository (whose code could read cookies for it), when a source file of the package mentions
cookies, reads the session of a request, names an HTTP authentication challenge or the identity headers of a
signing-in proxy, when the package has more files than are read here, or when a file its code imports cannot
be read (one that nothing imports, over the size limit or minified, is an asset or a vendored bundle, not the
server's code). No only when none of these holds.

A dependency counts only when the package's code imports it (`import`, `require`, `import()`) or a configuration
file of it names it (a Nuxt module): one that is declared and never used mounts nothing and sets no cookie.
Passport and its strategies keep no credential by themselves: a signed-in user is remembered only by a session
(whose own dependency counts) or by a cookie the code sets or reads (which the word scan sees); only its HTTP
authentication strategy (`passport-http`, Basic and Digest) has the browser send credentials on its own.

An authentication library the package imports only from its token module (`next-auth/jwt`'s `encode` and
`decode`) packs and reads tokens the app hands out and reads itself; it keeps no cookie unless the code sets one
(which the word scan sees) or uses its cookie reader (`getToken`, which takes the session cookie first). Such a
dependency is no sign by itself; one the package never imports but names elsewhere (a configuration's list of
modules) still is.

An Express app (Express or NestJS on Express, and no framework that reads cookies itself) whose code
uses no cookie parser cannot read a cookie: `req.cookies` is undefined, and a cookie it writes
(`res.cookie(...)`) comes back to nothing that reads it. In such a package a mention of cookies counts only when
the code reads the `Cookie` header itself (`req.headers.cookie`, `req.get('cookie')`), which a proxy forwarding
it also does.

A CSRF library's cookie (`csurf({ cookie: … })`, `csrf-csrf`) holds the secret its form tokens are checked
against, not an identity. In a package that uses one, `cookie-parser` (which it needs) is no sign by itself,
and a file whose mentions of cookies are all that wiring (the imports, `cookieParser()`, the CSRF library's
call and options) or comments does not count: what else the code does with cookies decides.
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.js.expressions import member_chain, unwrap
from linter.js.functions import FUNCTION_TYPES
from linter.js.imports import package_name, require_specifier, string_value
from linter.syntax import Node, walk

if TYPE_CHECKING:
    from linter.project import ProjectIndex

# Dependencies that keep a session or read cookies for the app (auth libraries do it inside).
_CREDENTIAL_DEPENDENCIES = lazy_re.compile(
    r"cookie|session|auth|passport|clerk|lucia|iron|supabase|kinde|workos|keycloak|openid|oidc|grant", re.I
)
# Also the headers a signing-in proxy in front of the app (oauth2-proxy, Cloudflare Access, IAP) adds once its
# own cookie checks out: the app then trusts a cookie it never reads.
_CREDENTIAL_WORDS = (b"cookie", b"Cookie", b"COOKIE", b"SESSION_SECRET", b"WWW-Authenticate",
                     b"www-authenticate", b"requestCert", b"forwarded-user", b"Forwarded-User", b"auth-request-",
                     b"Auth-Request-", b"cf-access-", b"Cf-Access-", b"iap-jwt", b"Iap-Jwt")  # fmt: skip
# Passport and its strategies, which remember no one without a session; `passport-http` is HTTP authentication.
_SESSIONLESS_AUTH = lazy_re.compile(r"^(?:@nestjs/)?passport(?:-(?!http$)[\w.-]+)?$")
# Dependencies that are cookies or sessions whatever the code imports of them.
_COOKIE_DEPENDENCIES = lazy_re.compile(r"cookie|session|iron", re.I)
# An authentication library's module of token functions, and the one of them that reads the session cookie.
_TOKEN_MODULE = lazy_re.compile(r"/jwt$")
_COOKIE_READING_TOKEN_FUNCTIONS = frozenset({"getToken"})
_COOKIE_WORDS = (b"cookie", b"Cookie", b"COOKIE")
# Frameworks whose requests are Express's, which parse no cookie without middleware, and those that parse them.
_EXPRESS_PACKAGES = frozenset({"express", "@nestjs/platform-express"})
_COOKIE_READING_FRAMEWORKS = frozenset({"next", "koa", "hono", "fastify", "@nestjs/platform-fastify", "h3", "nuxt",
                                        "@remix-run/node", "@sveltejs/kit", "elysia", "@hapi/hapi", "hapi"})  # fmt: skip
# A session the request carries (`req.session`, `ctx.session`). The bare word is no sign: a `Session` table,
# a `sessionToken` handed out in a response body, a session id sent in a header are not sent by the browser.
_SESSION_READ = lazy_re.compile(rb"\.session\b")
MAX_FILES_READ = 4_000  # source files of one package read for the words above
# CSRF libraries keep the secret their tokens are checked against in a cookie, parsed by `cookie-parser`.
_CSRF_LIBRARIES = frozenset({"csurf", "csrf-csrf", "tiny-csrf", "@dr.pogodin/csurf"})
_CSRF_BYTES = tuple(sorted(module.encode() for module in _CSRF_LIBRARIES))
_COOKIE_WIRING = _CSRF_LIBRARIES | {"cookie-parser"}


def has_ambient_credentials(project: "ProjectIndex", path: str) -> bool:
    package = project.package_of(path)
    if package is None or package.manifest is None:
        return True
    return project.memo(("rules.cors.ambient-credentials", package.dir), lambda: _package_has_them(project, path))


def _package_has_them(project: "ProjectIndex", path: str) -> bool:
    packages = project.packages_around(path)
    dependencies = {name for package in packages for name in package.dependencies}
    workspace = {package.name for package in project.packages.values() if package.name}
    if dependencies & workspace:
        return True
    folder = packages[0].dir
    prefix = f"{folder}/" if folder else ""
    sources = [file for file in project.files if file.startswith(prefix) and project.package_of(file) is packages[0]]
    if len(sources) > MAX_FILES_READ:
        return True
    watched = {name for name in dependencies if _CREDENTIAL_DEPENDENCIES.search(name) or name in _CSRF_LIBRARIES}
    used = _named_in_code(project, sources, watched)
    wiring = _COOKIE_WIRING if used & _CSRF_LIBRARIES else frozenset()
    credential = sorted(name for name in used - _CSRF_LIBRARIES if name.removeprefix("@types/") not in wiring
                        and not _SESSIONLESS_AUTH.match(name.removeprefix("@types/")))  # fmt: skip
    if any(_COOKIE_DEPENDENCIES.search(name) for name in credential):
        return True
    if any(not _only_token_functions(project, sources, name) for name in credential):
        return True
    unparsed = (bool(dependencies & _EXPRESS_PACKAGES) and not dependencies & _COOKIE_READING_FRAMEWORKS
                and not any(_COOKIE_DEPENDENCIES.search(name) for name in used))  # fmt: skip
    for source_path in sources:
        source = project.read_js_source(source_path)
        if source is None:
            if _imported(project, source_path):
                return True
            continue
        if _SESSION_READ.search(source):
            return True
        if not any(word in source for word in _CREDENTIAL_WORDS) or _only_cookie_wiring(project, source_path, source):
            continue
        if unparsed and not any(word in source for word in _CREDENTIAL_WORDS if word not in _COOKIE_WORDS):
            if not _reads_cookie_header(project, source_path):
                continue
        return True
    return False


def _named_in_code(project: "ProjectIndex", sources: list[str], dependencies: set[str]) -> set[str]:
    """The dependencies the package's code imports (`import`, `require`, `import()`) or its configuration files
    (`nuxt.config.ts`) name in a string; a `@types/` package stands for its module."""
    modules = {name: name.removeprefix("@types/") for name in dependencies}
    imported = {package_name(specifier) for path in sources for specifier in project.specifiers.get(path, ())}
    named = {name for name, module in modules.items() if module in imported}
    rest = {name: module for name, module in modules.items() if name not in named}
    configs = [path for path in sources if ".config." in posixpath.basename(path)] if rest else []
    for path in configs:
        source = project.read_js_source(path) or b""
        for name, module in rest.items():
            if re.search(rb"""['"`]%s['"`/]""" % re.escape(module.encode()), source):
                named.add(name)
    return named



def _imported(project: "ProjectIndex", path: str) -> bool:
    """Whether a file of the project imports `path`. One that cannot be read (over the size limit, not text) and
    that nothing imports is an asset or a vendored bundle the server hands out, not the server's own code."""
    return bool(project.importers_of(path))


def _reads_cookie_header(project: "ProjectIndex", path: str) -> bool:
    """Whether the file reads the `Cookie` header itself: `headers.cookie`, `headers['cookie']`,
    `req.get('Cookie')`, `{ cookie: … }` among headers it builds (a cookie a proxy forwards)."""
    file = project.parsed_file(path)
    if file is None:
        return True
    for node in walk(file.root):
        if node.type == "property_identifier" and node.text.lower() == b"cookie":
            holder = node.parent
            if holder is not None and holder.type == "pair":
                return True  # `headers: { cookie: req.headers.cookie }`
            owner = holder.child_by_field_name("object") if holder is not None and holder.type == "member_expression" else None
            if owner is not None and owner.text.endswith(b"headers"):
                return True  # `req.headers.cookie`
        if node.type == "string_fragment" and node.text.lower() == b"cookie":
            return True  # `req.get('Cookie')`, `headers['cookie']`
    return False


def _only_token_functions(project: "ProjectIndex", sources: list[str], dependency: str) -> bool:
    """Whether the package imports `dependency` somewhere, and only from its token module (`next-auth/jwt`),
    never its cookie reader."""
    needle = dependency.removeprefix("@types/").encode()
    imported = False
    for path in sources:
        source = project.read_js_source(path)
        if source is None or needle not in source:
            continue
        file = project.parsed_file(path)
        if file is None:
            return False
        name = needle.decode()
        for binding in file.import_bindings:
            if binding.module != name and not binding.module.startswith(name + "/"):
                continue
            if not _TOKEN_MODULE.search(binding.module) or binding.imported in _COOKIE_READING_TOKEN_FUNCTIONS:
                return False
            imported = True
        if any(reference.specifier == name or reference.specifier.startswith(name + "/") for reference in file.module_references
               if not _TOKEN_MODULE.search(reference.specifier)):
            return False
    return imported


def _only_cookie_wiring(project: "ProjectIndex", path: str, source: bytes) -> bool:
    """Whether the file uses a CSRF library and every mention of a credential word in it is that library's or
    the cookie parser's wiring (an import, a call of it with its options) or a comment."""
    if not any(module in source for module in _CSRF_BYTES):
        return False
    file = project.parsed_file(path)
    if file is None:
        return False
    wiring = {b.local for b in file.import_bindings if b.module in _COOKIE_WIRING}
    for node in walk(file.root):
        if (node.child_count == 0 or node.type == "comment") and any(word in node.text for word in _CREDENTIAL_WORDS):
            if not _in_wiring(node, wiring):
                return False
    return True


def _in_wiring(node: Node, wiring: set[str]) -> bool:
    """A callback inside a wiring call's options (`getToken: (req) => req.cookies.jwt`) is the app's own code."""
    current: Node | None = node
    in_callback = False
    while current is not None:
        kind = current.type
        in_callback = in_callback or kind in FUNCTION_TYPES
        if kind == "comment":
            return True
        if kind == "import_statement":
            return string_value(current.child_by_field_name("source")) in _COOKIE_WIRING
        if kind == "variable_declarator" and require_specifier(unwrap(current.child_by_field_name("value"))) in _COOKIE_WIRING:
            return True
        if kind == "call_expression" and not in_callback:
            if require_specifier(current) in _COOKIE_WIRING:
                return True
            root, _ = member_chain(unwrap(current.child_by_field_name("function")))
            if root is not None and root.type == "identifier" and root.text.decode() in wiring:
                return True
        current = current.parent
    return False
