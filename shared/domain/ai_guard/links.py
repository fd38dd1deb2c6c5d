"""Links in answers: URLs, bare domains and @mentions, and whether each points somewhere allowed."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.domain.ai_guard.text import unhidden

# Bare domains («example.com/path») count as links only with a known top-level domain: a rule for any
# alphabetic one would also read code as links («os.path», «turtle.forward()», «main.py», «index.html»), which
# a coding school's answers are full of. Any alphabetic top-level domain counts when a path follows
# («evil.bond/login»).
_TLDS = (
    r"(?:com|net|org|info|biz|io|ai|co|me|to|in|it|us|be|ru|su|ua|by|kz|uz|kg|am|ge|az|md|lv|lt|ee|pl|de|"
    r"fr|es|uk|eu|nl|ch|cz|sk|fi|se|dk|il|tr|ae|cn|jp|kr|ca|au|nz|br|mx|ro|hu|pt|bg|gr|ie|ly|gl|gle|cc|tv|"
    r"fm|gg|tk|ml|ga|cf|gq|pw|app|dev|xyz|online|site|store|shop|link|pro|club|top|icu|bond|sbs|cfd|buzz|"
    r"lol|vip|fun|today|group|team|media|studio|design|academy|school|education|edu|gov|tech|live|space|"
    r"website|page|blog|news|world|life|digital|email|click|cloud|ws|рф|укр|бел|рус)"
)
_LINK_FLAGS = re.IGNORECASE
_URL_WITH_SCHEME = re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s<>\"'`]+", _LINK_FLAGS)
_URL_WWW = re.compile(r"(?<![\w.\-@/])www\d{0,3}\.[^\s<>\"'`]+", _LINK_FLAGS)
_URL_BARE = re.compile(
    rf"(?<![\w@.\-])(?:[\w-]+\.)+(?P<tld>{_TLDS})(?![\w-])(?P<rest>(?::\d+)?(?:[/?#][^\s<>\"'`]*)?)",
    _LINK_FLAGS,
)
_URL_BARE_WITH_PATH = re.compile(
    r"(?<![\w@.\-])(?:[\w-]+\.)+(?!js/)[a-z]{2,24}(?::\d+)?/[^\s<>\"'`]*", _LINK_FLAGS
)  # «Node.js/React» is not a link
_URL_PATTERNS = (_URL_WITH_SCHEME, _URL_WWW, _URL_BARE, _URL_BARE_WITH_PATH)
# Telegram makes «@username» clickable (but not the part after @ of an email address).
_MENTION = re.compile(r"(?<![\w.@])@([a-z][a-z0-9_]{3,})(?![a-z0-9_])", _LINK_FLAGS)
# «…in small classes.In addition…»: a top-level domain that is also a word, in Title case, with no path, is
# a new sentence without its space.
_WORD_TLDS = frozenset({"in", "it", "to", "me", "us", "be", "am", "by"})
_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*://", _LINK_FLAGS)
_WEB_SCHEME = re.compile(r"^(?:https?://)?(?![a-z][a-z0-9+.\-]*://)", _LINK_FLAGS)
_AUTHORITY = re.compile(r"[^/?#]*")
_TRAILING = ".,;:!?)]}»\"'…"


@dataclass(frozen=True)
class _Link:
    host: str | None  # None: a mention, or a link whose host cannot be read
    key: str | None  # the link as compared with `allowed_urls` (None: not a web link, never allowed by URL)
    mention: bool = False


def _url_key(url: str) -> str | None:
    """The link without its scheme (http, https or none), host lower-cased, trailing «/» and punctuation off.

    None: another scheme (ftp, tg…), never allowed by URL."""
    if not _WEB_SCHEME.match(url):
        return None
    url = _SCHEME.sub("", url.strip()).rstrip(_TRAILING + "/")
    authority = _AUTHORITY.match(url)
    end = authority.end() if authority else 0
    return url[:end].lower() + url[end:]


def _links(text: str) -> Iterator[_Link]:
    """Every link in the text: URLs, bare domains and @mentions."""
    plain = unhidden(text)
    for pattern in _URL_PATTERNS:
        for match in pattern.finditer(plain):
            if pattern is _URL_BARE:
                tld, rest = match.group("tld"), match.group("rest")
                if not rest and tld.lower() in _WORD_TLDS and tld.istitle() and len(tld) > 1:
                    continue
            url = match.group().rstrip(_TRAILING)
            try:
                host = urlsplit(url if pattern is _URL_WITH_SCHEME else "http://" + url).hostname
            except ValueError:
                host = None
            yield _Link(host.rstrip(".") if host else None, _url_key(url))
        plain = pattern.sub(lambda m: " " * len(m.group()), plain)  # a link's path is not read again
    for match in _MENTION.finditer(plain):
        yield _Link(None, "t.me/" + match.group(1).lower(), mention=True)


def _host_allowed(host: str | None, allowed: frozenset[str]) -> bool:
    if not host:
        return False
    for entry in allowed:
        entry = entry.lower().strip(".")
        if host == entry or host.endswith("." + entry):
            return True
    return False


@functools.lru_cache(maxsize=8)
def _url_keys(allowed_urls: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The keys of the allowed URLs, as they are and lower-cased (for @mentions: usernames ignore case)."""
    keys = frozenset(key for url in allowed_urls if (key := _url_key(unhidden(url))) is not None)
    return keys, frozenset(key.lower() for key in keys)


def _link_allowed(link: _Link, allowed_hosts: frozenset[str], allowed_urls: frozenset[str]) -> bool:
    if _host_allowed(link.host, allowed_hosts):
        return True
    if link.key is None:
        return False
    keys, lowered = _url_keys(allowed_urls)
    return link.key in (lowered if link.mention else keys)


def has_foreign_link(
    answer: str, allowed_hosts: frozenset[str], allowed_urls: frozenset[str] = frozenset()
) -> bool:
    """A link (URL, bare domain, @mention) to neither an allowed host (or subdomain) nor an allowed URL."""
    return any(not _link_allowed(link, allowed_hosts, allowed_urls) for link in _links(answer))
