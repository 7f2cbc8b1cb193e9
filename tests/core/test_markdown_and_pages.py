from facilities.core.markdown import render_markdown
from facilities.core.pagination import page_number


def test_markdown_is_rendered_and_sanitised():
    html = render_markdown(
        "**Hi** <script>alert(1)</script> [x](javascript:alert(1)) [ok](https://example.com)"
    )
    assert "<strong>Hi</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html  # shown as text, not run
    assert 'href="javascript' not in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_page_numbers_from_query_strings():
    assert [page_number(v) for v in (None, "x", "-3", "0", "4")] == [1, 1, 1, 1, 4]
