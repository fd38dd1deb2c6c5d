"""The HTML parse mode, a port of tdlib's parse_html: the texts the real server refuses, refused here."""

from __future__ import annotations

from local.fakes.base import JSONDict

# ---- HTML parse mode (port of tdlib's parse_html) -------------------------------------------------------
_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji", "span", "pre"}
    | {"code", "blockquote"}
)
_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
}
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
_SPACE = frozenset(b" \t\r\n\x0b\x0c\x00")
_NAMED_ENTITIES = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}


class HtmlParseError(ValueError):
    pass


def _decode_entity(data: bytes, pos: int) -> tuple[int, int]:
    """(code point, position after it) of an HTML entity at `pos`, or (0, pos) if it is not one."""
    n = len(data)

    def at(i: int) -> int:
        return data[i] if i < n else 0

    end = pos + 1
    code = 0
    if at(end) == 0x23:  # '#'
        end += 1
        if at(end) in (0x78, 0x58):  # 'x'
            end += 1
            while chr(at(end)) in "0123456789abcdefABCDEF" and at(end):
                code = code * 16 + int(chr(at(end)), 16)
                end += 1
        else:
            while 0x30 <= at(end) <= 0x39:
                code = code * 10 + at(end) - 0x30
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while chr(at(end)).isascii() and chr(at(end)).isalpha() and at(end):
            end += 1
        code = _NAMED_ENTITIES.get(data[pos + 1 : end], 0)
        if not code:
            return 0, pos
    if at(end) == 0x3B:  # ';'
        end += 1
    return code, end


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Telegram's HTML parse mode: (plain text, entities with UTF-16 offsets), or HtmlParseError carrying the
    message the server puts after "can't parse entities: ". Byte offsets are of the UTF-8 text, as tdlib's."""
    data = text.encode("utf-8")
    n = len(data)

    def at(i: int) -> int:
        return data[i] if i < n else 0

    out = bytearray()
    utf16 = 0
    entities: list[JSONDict] = []
    stack: list[tuple[str, str, int, int]] = []  # tag, argument, utf16 offset, byte position in `out`
    i = 0
    while i < n:
        c = data[i]
        if c == 0x26:
            code, end = _decode_entity(data, i)
            if code:
                if 0xD800 <= code <= 0xDFFF:
                    raise HtmlParseError(
                        "Text contains invalid Unicode characters after decoding HTML entities, check for"
                        " unmatched surrogate code units"
                    )
                out += chr(code).encode("utf-8")
                utf16 += 2 if code > 0xFFFF else 1
                i = end
                continue
        if c != 0x3C:
            out.append(c)
            if c & 0xC0 != 0x80:  # the first byte of a character; 4-byte ones are surrogate pairs in UTF-16
                utf16 += 2 if c >= 0xF0 else 1
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != 0x2F:  # start tag
            while at(i) not in _SPACE and at(i) != 0x3E:
                i += 1
            if at(i) == 0:
                raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _HTML_TAGS:
                raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            while at(i) != 0x3E:
                while at(i) != 0 and at(i) in _SPACE:
                    i += 1
                if at(i) == 0x3E:
                    break
                attr_begin = i
                while at(i) not in _SPACE and at(i) not in (0x3D, 0x3E):
                    i += 1
                attr = data[attr_begin:i].decode("utf-8", "replace").lower()
                if not attr:
                    raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                while at(i) != 0 and at(i) in _SPACE:
                    i += 1
                if at(i) != 0x3D:
                    if tag == "blockquote" and attr == "expandable":
                        argument = "expandable"
                        continue
                    if at(i) == 0:
                        raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                    raise HtmlParseError(
                        "Expected equal sign in declaration of an attribute of the tag"
                        f' "{tag}" at byte offset {begin}'
                    )
                i += 1
                while at(i) != 0 and at(i) in _SPACE:
                    i += 1
                if at(i) == 0:
                    raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                value = bytearray()
                if at(i) not in (0x22, 0x27):
                    token_begin = i
                    while at(i) and (chr(at(i)).isascii() and chr(at(i)).isalnum() or at(i) in (0x2E, 0x2D)):
                        i += 1
                    value += data[token_begin:i]
                    if at(i) not in _SPACE and at(i) != 0x3E:
                        raise HtmlParseError(f"Unexpected end of name token at byte offset {token_begin}")
                else:
                    quote = at(i)
                    i += 1
                    while at(i) != quote and at(i) != 0:
                        if at(i) == 0x26:
                            code, end = _decode_entity(data, i)
                            if code:
                                value += chr(code).encode("utf-8")
                                i = end
                                continue
                        value.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                if at(i) == 0:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
                decoded = value.decode("utf-8", "replace")
                if tag == "a" and attr == "href":
                    argument = decoded
                elif tag == "code" and attr == "class" and decoded.startswith("language-"):
                    argument = decoded[len("language-") :]
                elif tag == "span" and attr == "class" and decoded.startswith("tg-"):
                    argument = decoded[len("tg-") :]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = decoded
            if tag == "span" and argument != "spoiler":
                raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            stack.append((tag, argument, utf16, len(out)))
        else:  # end tag
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {begin}")
            i += 1
            name_begin = i
            while at(i) not in _SPACE and at(i) != 0x3E:
                i += 1
            end_tag = data[name_begin:i].decode("utf-8", "replace").lower()
            while at(i) != 0 and at(i) in _SPACE:
                i += 1
            if at(i) != 0x3E:
                raise HtmlParseError(f"Unclosed end tag at byte offset {begin}")
            tag, argument, offset, _ = stack[-1]
            if end_tag and end_tag != tag:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", found "</{end_tag}>"'
                )
            stack.pop()
            if utf16 > offset:
                entities.extend(_html_entity(tag, argument, offset, utf16 - offset, entities))
        i += 1
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    # tdlib's order: by offset, longer first, then by type priority (so <pre> comes before its <code>).
    entities.sort(key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))
    return out.decode("utf-8"), entities


def _html_entity(tag: str, argument: str, offset: int, length: int, done: list[JSONDict]) -> list[JSONDict]:
    """The Bot API MessageEntity for a closed tag (may merge `<pre><code class="language-x">`)."""
    entity: JSONDict = {"offset": offset, "length": length}
    if tag == "a":
        if not argument:
            return []
        url = argument if "://" in argument or argument.startswith("tg:") else f"http://{argument}"
        return [{"type": "text_link", **entity, "url": url}]
    if tag == "tg-emoji":
        return [{"type": "custom_emoji", **entity, "custom_emoji_id": argument}]
    if tag == "blockquote":
        return [{"type": "expandable_blockquote" if argument else "blockquote", **entity}]
    if tag == "code" and argument:
        return [{"type": "code", **entity, "language": argument}]  # merged into the enclosing <pre> below
    if tag == "pre":
        inner = done[-1] if done else None
        if inner and inner["type"] == "code" and (inner["offset"], inner["length"]) == (offset, length):
            if inner.get("language"):
                done.pop()
                return [{"type": "pre", **entity, "language": inner["language"]}]
        return [{"type": "pre", **entity}]
    return [{"type": _ENTITY_TYPES[tag], **entity}]


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Telegram strips leading and trailing whitespace of a message; entities follow (UTF-16 offsets)."""
    stripped = text.lstrip()
    shift = _utf16_len(text) - _utf16_len(stripped)
    stripped = stripped.rstrip()
    total = _utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept
