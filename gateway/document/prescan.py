"""A first pass over the raw query text that refuses documents far over a limit before they are lexed.

graphql-core's lexer is Python code, and its linked list of tokens is cyclic garbage once parsing ends:
a document of 15,000 tokens costs tens of milliseconds and megabytes before the token limit trips. Here
a few regular expressions (C speed) count what the limits count, so a hostile document is refused at
scan speed. Each count is a lower bound of what the full check (graphql-core's token limit, then
`check_document_limits`) would find, so nothing the full check accepts is refused here:

- tokens: string and block-string values and comments count one each (graphql-core counts comments
  toward `max_tokens`), then names, numbers and punctuators;
- fragment definitions: `fragment <name> on`;
- aliases and named spreads: counted over the whole text and compared with the limit times the number
  of definitions (operations and fragments, each measured on its own by the full check): above that, by
  pigeonhole, one definition holds more than the limit by itself. An alias is a `:` outside parentheses
  (arguments, variable definitions and directive arguments are the only places a `:` appears otherwise).

Small documents (the usual case) skip the scan: a document with fewer characters than `max_tokens`
cannot hold more tokens, and one with fewer `:`, `...` and `fragment` than the limits is under them.
"""

from __future__ import annotations

import re

from gateway.document.limits import DocumentLimitError, DocumentLimits

# One match per string value, block string or comment. Every match that starts also ends (an
# unterminated string runs to its line's end, a block string to the text's end, a string also at a stray
# backslash), without backtracking (possessive loops): the scan never restarts inside what it has read,
# so it stays linear even on a line of unbalanced quotes. (Such a document is a syntax error anyway.)
_STRINGS_AND_COMMENTS = re.compile(
    r'"""(?:\\"""|(?!""")[\s\S])*+(?:"""|\Z)|"(?:[^"\\\n\r]|\\[^\n\r])*+(?:"|\\|(?=[\n\r])|\Z)|#[^\n\r]*')
_TOKEN = re.compile(r"[_A-Za-z][_0-9A-Za-z]*|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|\.\.\.|[!$&()\[\]{}:=@|]")
_FRAGMENT_DEFINITION = re.compile(r"\bfragment\s+[_A-Za-z][_0-9A-Za-z]*\s+on\b")
_DEFINITION_KEYWORD = re.compile(r"\b(?:query|mutation|subscription|fragment)\b")
_NAMED_SPREAD = re.compile(r"\.\.\.\s*(?!on\b)[_A-Za-z]")
_PARENTHESIZED = re.compile(r"\([^()]*\)")


def prescan_document(text: str, limits: DocumentLimits) -> None:
    """Raise DocumentLimitError when the text is certainly over a limit; otherwise do nothing."""
    long_text = len(text) > limits.max_tokens
    many_colons = text.count(":") > limits.max_aliases
    many_spreads = text.count("...") > limits.max_fragment_spreads
    many_fragments = text.count("fragment") > limits.max_fragments
    if not (long_text or many_colons or many_spreads or many_fragments):
        return
    # every string and comment becomes one placeholder token that matches nothing else below
    plain = _STRINGS_AND_COMMENTS.sub(" 0 ", text) if '"' in text or "#" in text else text
    # in the full check's order (tokens while parsing, then fragments, then the measured walk), so a
    # document over several limits is refused with the same code either way
    if long_text and _more_tokens_than(plain, limits.max_tokens):
        raise DocumentLimitError(f"Document contains more than {limits.max_tokens} tokens.", "MAX_TOKENS_LIMIT")
    if many_fragments and len(_FRAGMENT_DEFINITION.findall(plain)) > limits.max_fragments:
        raise DocumentLimitError(f"Document defines more than {limits.max_fragments} fragments.",
                                 "MAX_FRAGMENTS_LIMIT")
    if many_colons or many_spreads:
        definitions = 1 + len(_DEFINITION_KEYWORD.findall(plain))  # an upper bound (field names may match)
        if many_spreads and len(_NAMED_SPREAD.findall(plain)) > limits.max_fragment_spreads * definitions:
            raise DocumentLimitError(
                f"Document expands more than {limits.max_fragment_spreads} fragment spreads.",
                "MAX_FRAGMENT_SPREADS_LIMIT")
        if many_colons:
            outside = plain
            while True:  # innermost parentheses first (a directive inside a variable definition nests them)
                outside, removed = _PARENTHESIZED.subn(" ", outside)
                if not removed:
                    break
            if outside.count(":") > limits.max_aliases * definitions:
                raise DocumentLimitError(f"Document exceeds the maximum of {limits.max_aliases} aliases.",
                                         "MAX_ALIASES_LIMIT")


def _more_tokens_than(plain: str, limit: int) -> bool:
    # Two lower bounds first, at str-method speed: the chunks between whitespace and commas (each holds
    # at least one token) and the punctuators; then the exact count.
    spaced = plain.replace(",", " ").replace("\ufeff", " ")  # both ignored by GraphQL, like whitespace
    if len(spaced.split()) > limit:
        return True
    punctuators = sum(spaced.count(c) for c in "!$&()[]{}:=@|") + spaced.count("...")
    if punctuators > limit:
        return True
    return _TOKEN.subn("", plain)[1] > limit
