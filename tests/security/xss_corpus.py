"""Hostile strings for the XSS suite (tests/browser/test_xss_corpus.py).

Each string, wherever it is placed, calls window.__xss(<n>) if any of it ever runs, and every
element it could inject carries a `data-xss` attribute: the browser test fails on a call, on a
Content-Security-Policy violation (markup that got in and tried to run, stopped only by the CSP)
and on any [data-xss] element in the page or its frames (markup that got in at all).
"""
import itertools

# {js} is replaced by a call naming the string; {m} by the marker attribute.
TEMPLATES = [
    "<script {m}>{js}</script>",
    "<img {m} src=x onerror={js}>",
    "<img {m} src=x onerror=\"{js}\">",
    "<svg {m} onload={js}>",
    "<svg {m}><script>{js}</script></svg>",
    "<svg><a {m} xlink:href=\"javascript:{js}\"><text y=20>x</text></a></svg>",
    "\"><img {m} src=x onerror={js}>",
    "'><svg {m} onload={js}>",
    "\" onmouseover=\"{js}\" {m}=\"",
    "' autofocus onfocus='{js}' {m}='",
    "<a {m} href=\"javascript:{js}\">click</a>",
    "<a {m} href=\"jav&#x09;ascript:{js}\">tab</a>",
    "<a {m} href=\"&#106;avascript:{js}\">entity</a>",
    "<a {m} href=\"data:text/html,<script>{js}</script>\">data</a>",
    "javascript:{js}",
    "JaVaScRiPt:{js}//",
    "<iframe {m} src=\"javascript:{js}\"></iframe>",
    "<iframe {m} srcdoc=\"<script>parent.{js}</script>\"></iframe>",
    "<object {m} data=\"javascript:{js}\"></object>",
    "<embed {m} src=\"javascript:{js}\">",
    "<body {m} onload={js}>",
    "<details {m} open ontoggle={js}>",
    "<input {m} autofocus onfocus={js}>",
    "<video {m}><source onerror={js}></video>",
    "<audio {m} src=x onerror={js}>",
    "<marquee {m} onstart={js}>m</marquee>",
    "<form {m} action=\"javascript:{js}\"><button>go</button></form>",
    "<button {m} formaction=\"javascript:{js}\">go</button>",
    "<meta {m} http-equiv=\"refresh\" content=\"0;url=javascript:{js}\">",
    "<base {m} href=\"javascript:{js}//\">",
    "<link {m} rel=stylesheet href=\"javascript:{js}\">",
    "<style {m}>@import 'javascript:{js}';</style>",
    "<div {m} style=\"background:url(javascript:{js})\">css</div>",
    "<div {m} style=\"width:expression({js})\">ie</div>",
    "<math><mtext><table><mglyph><style><img {m} src=x onerror={js}>",
    "<noscript><p title=\"</noscript><img {m} src=x onerror={js}>\">",
    "<template><img {m} src=x onerror={js}></template>",
    "</textarea><script {m}>{js}</script>",
    "</title><script {m}>{js}</script>",
    "</script><script {m}>{js}</script>",
    "<scr<script>ipt {m}>{js}</script>",
    "<<img {m} src=x onerror={js}>",
    "&lt;img {m} src=x onerror={js}&gt;",
    "&amp;lt;script&amp;gt;{js}&amp;lt;/script&amp;gt;",
    "<img {m} src=x onerror=&#95;&#95;xss&#40;0&#41;>",
    "<IMG {m} SRC=x ONERROR={js}>",
    "<img/{m}/src=x/onerror={js}>",
    "\u003cimg {m} src=x onerror={js}\u003e",
    "\uff1cscript\uff1e{js}\uff1c/script\uff1e",
    "\u202e<img {m} src=x onerror={js}>",
    "<img {m} src=x onerror=\u200b{js}>",
    "<x {m} contenteditable onfocus={js} autofocus>edit",
    "{{{{constructor.constructor('{js}')()}}}}",
    "${{{js}}}",
    "[click](javascript:{js})",
    "![img](x\" onerror=\"{js})",
    "<img {m} src=\"x` `<script>{js}</script>\"` `>",
    "<svg><animate {m} onbegin={js} attributeName=x dur=1s>",
    "<svg><set {m} onbegin={js} attributeName=x to=1>",
    "<iframe {m} src=\"data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX194c3MoMCk8L3NjcmlwdD4=\"></iframe>",
]

_n = itertools.count(1)


def corpus() -> dict[int, str]:
    """n -> a hostile string that calls __xss(n) (numbers are unique across calls)."""
    strings = {}
    for template in TEMPLATES:
        n = next(_n)
        strings[n] = template.format(js=f"__xss({n})", m="data-xss")
    return strings


# Tag names the desk accepts (letters, digits, spaces and .:/&+-): only legacy entities (no ";", a word character first) get through.
HOSTILE_TAGS = ["a & b", "x&y:/+-", "b&lt", "x &gt img", "q&amp"]
