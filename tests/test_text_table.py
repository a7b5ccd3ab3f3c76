"""Terminal tables line up by display width, so kanji names (two columns each) do not shift the columns."""

from kyodo.text_table import display_width, format_table
from wcwidth import wcswidth


def test_wide_characters_count_two_columns():
    assert display_width("姫路市") == 6 and display_width("abc") == 3 and display_width("ｱｲ") == 2


def test_columns_start_at_the_same_display_position_on_every_line():
    table = format_table(("municipality", "records"), [("282014 姫路市", 5), ("283657 多可町", 12), ("x", 123456)],
                         right=(1,))
    lines = table.splitlines()
    assert lines[0].startswith("municipality")
    # the right-aligned number column ends at the same display column on every line
    assert len({wcswidth(line) for line in lines}) == 1
    # names padded to the widest one's display width: the second column starts at display column 15
    assert {wcswidth(line[: len(line) - len(line[line.index(name) + len(name):].lstrip())])
            for line, name in zip(lines[1:], ("姫路市", "多可町", "x"))} == {15 + 7 - 1, 15 + 7 - 2, 15 + 7 - 6}
