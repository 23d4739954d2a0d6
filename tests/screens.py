"""Measuring what a screen shows: every text in every drawn chart (its computed size and colour,
and the contrast with the pixels behind it), where each chart and its headline sit in the
viewport, and whether the page scrolls sideways. Used by the projector, phone and axe tests."""
from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass

from tests.browser import LOCAL_HOSTS, Visit, wait_until_idle

# WCAG 2.x: 4.5:1 for text, 3:1 for large text (24 px, or 18.66 px bold; we use the 24 px rule).
NORMAL_CONTRAST, LARGE_CONTRAST, LARGE_PX = 4.5, 3.0, 24.0
MIN_CHART_TEXT_PX = 20  # the projector's smallest chart text
FORBIDDEN_TEXT_COLOURS = {"#808495", "#D55E00"}  # Streamlit's grey; Okabe-Ito vermillion (3.9:1 on white)

_TEXTS_JS = r"""
(index) => {
  const out = [];
  const plot = document.querySelectorAll('.js-plotly-plot')[index];
  const container = plot.closest('[data-testid="stPlotlyChart"]');
  if (!container || container.getBoundingClientRect().width === 0) return out;  // hidden, e.g. in a closed tab
  // What a text must stay inside to be seen whole: the chart, and a presenting chart's screen.
  const frames = [container, container.closest('[class*="st-key-present_chart_"]')].filter(Boolean).map(f => f.getBoundingClientRect());
  plot.querySelectorAll('svg text').forEach((el, number) => {
    const text = (el.textContent || '').trim();
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (!text || style.display === 'none' || style.visibility === 'hidden' || box.width === 0 || box.height === 0) return;
    let opacity = 1;
    for (let node = el; node && node !== plot; node = node.parentElement) opacity *= parseFloat(getComputedStyle(node).opacity || '1');
    if (opacity === 0) return;
    // A label's own smaller line (<tspan style="font-size: 12px">) counts at its own size.
    const sizes = [el, ...el.querySelectorAll('tspan')].filter(t => (t.textContent || '').trim()).map(t => parseFloat(getComputedStyle(t).fontSize));
    const rotated = /rotate\((?!0[ ,)])/.test((el.getAttribute('transform') || '') + (el.parentElement.getAttribute('transform') || ''));
    out.push({plot: index, number, rotated, text, size: Math.min(...sizes), fill: style.fill,
              fillOpacity: parseFloat(style.fillOpacity || '1') * opacity,
              x: box.x, y: box.y, width: box.width, height: box.height,
              pageY: box.y + (document.querySelector('[data-testid="stMain"]')?.scrollTop || 0),
              clipped: frames.some(f => box.left < f.left - 1 || box.right > f.right + 1 || box.top < f.top - 1 || box.bottom > f.bottom + 1)});
  });
  return out;
}
"""


@dataclass
class ChartText:
    plot: int
    text: str
    size: float
    colour: str  # #RRGGBB as drawn (fill blended with the background by its opacity)
    background: str  # the colour behind it that contrasts least (of those covering >= 15 % of its box)
    contrast: float
    box: tuple[float, float, float, float]  # x, y, width, height in viewport pixels, where it was measured
    clipped: bool = False  # partly outside its chart (or a presenting chart's screen): cut off
    page_y: float = 0.0  # its top in the scrolled main area (boxes of one chart compare on this)
    rotated: bool = False  # turned (its box is wider than its glyphs: not compared for overlaps)

    @property
    def needed(self) -> float:
        return LARGE_CONTRAST if self.size >= LARGE_PX else NORMAL_CONTRAST

    @property
    def passes(self) -> bool:
        return self.contrast >= self.needed

    def __str__(self) -> str:
        return (f"{self.text[:40]!r} {self.size:.0f}px {self.colour} on {self.background} {self.contrast:.2f}:1"
                + (" clipped" if self.clipped else ""))


def _rgb(css: str) -> tuple[int, int, int]:
    css = css.strip()
    if css.startswith("#"):
        return tuple(int(css[i:i + 2], 16) for i in (1, 3, 5))
    inner = css[css.index("(") + 1: css.index(")")].replace("/", " ").replace(",", " ").split()
    return tuple(round(float(v)) for v in inner[:3])


def hex_of(rgb) -> str:
    return "#{:02X}{:02X}{:02X}".format(*rgb[:3])


def luminance(rgb) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def chart_texts(page) -> list[ChartText]:
    """Every visible text of every drawn chart on the page, with the contrast against what is
    behind it. Streamlit scrolls its main area, not the document, so each chart is scrolled into
    view in turn (and on, a screen at a time, if it is taller than the screen); there the texts
    are hidden, the screen photographed, and the colours under each text's box read from the
    picture: the least contrasting of those that cover at least 15 % of the box."""
    measured = []
    for index in range(page.evaluate("document.querySelectorAll('.js-plotly-plot').length")):
        page.evaluate("(i) => document.querySelectorAll('.js-plotly-plot')[i].scrollIntoView({block: 'start'})", index)
        pending = page.evaluate(_TEXTS_JS, index)
        height = page.viewport_size["height"]
        for _ in range(20):  # a screen at a time down a tall chart
            on_screen = [t for t in pending if t["y"] >= 0 and t["y"] + t["height"] <= height]
            if on_screen:
                measured += _measure(page, on_screen)
            pending = [t for t in pending if t not in on_screen]
            if not pending:
                break
            page.evaluate("(dy) => document.querySelector('[data-testid=\"stMain\"]').scrollBy(0, dy)", int(min(t["y"] for t in pending) - 10) or 1)
            left = {p["number"] for p in pending}
            pending = [t for t in page.evaluate(_TEXTS_JS, index) if t["number"] in left]
        else:
            raise AssertionError(f"chart {index}: texts that never come on screen: {[t['text'] for t in pending][:5]}")
    return measured


def _measure(page, items: list[dict]) -> list[ChartText]:
    from PIL import Image

    page.add_style_tag(content=f".js-plotly-plot svg text {{ {_HIDE} }}")
    shot = Image.open(io.BytesIO(page.screenshot(animations="disabled"))).convert("RGB")
    page.evaluate("(rule) => document.querySelectorAll('style').forEach(s => s.textContent.includes(rule) && s.remove())", _HIDE)
    scale = shot.width / page.viewport_size["width"]
    measured = []
    for item in items:
        x0, y0 = max(0, int(item["x"] * scale)), max(0, int(item["y"] * scale))
        x1 = min(shot.width, max(x0 + 1, int((item["x"] + item["width"]) * scale)))
        y1 = min(shot.height, max(y0 + 1, int((item["y"] + item["height"]) * scale)))
        counts = Counter(shot.crop((x0, y0, x1, y1)).get_flattened_data())
        total = sum(counts.values())
        behind = [c for c, n in counts.items() if n / total >= 0.15] or [counts.most_common(1)[0][0]]
        fill, alpha = _rgb(item["fill"]), max(0.0, min(1.0, item["fillOpacity"]))
        worst = None
        for background in behind:
            drawn = tuple(round(alpha * f + (1 - alpha) * b) for f, b in zip(fill, background))
            ratio = contrast(drawn, background)
            if worst is None or ratio < worst[0]:
                worst = (ratio, drawn, background)
        measured.append(ChartText(item["plot"], item["text"], item["size"], hex_of(worst[1]), hex_of(worst[2]), worst[0],
                                  (item["x"], item["y"], item["width"], item["height"]), item["clipped"], item["pageY"],
                                  item["rotated"]))
    return measured


_HIDE = "visibility: hidden !important; /* measuring */"


def horizontal_overflow(page) -> int:
    """How many pixels the page scrolls sideways (0: none): the document, or Streamlit's main area
    (which is what scrolls)."""
    return page.evaluate("""() => Math.max(...[document.scrollingElement, document.querySelector('[data-testid="stMain"]')]
        .filter(Boolean).map(e => e.scrollWidth - e.clientWidth))""")


def wait_for_charts(page, timeout_ms: int = 120_000) -> int:
    """Every chart element the app sent has been drawn by Plotly (`_fullData` present), and the
    drawing has settled (plotly redraws once a responsive chart learns its width)."""
    page.wait_for_function(
        "() => { const n = document.querySelectorAll('[data-testid=\"stPlotlyChart\"]').length;"
        " const drawn = Array.from(document.querySelectorAll('.js-plotly-plot'));"
        " return drawn.length === n && drawn.every(p => p._fullData && p._fullLayout); }",
        timeout=timeout_ms,
    )
    count = "document.querySelectorAll('.js-plotly-plot svg text').length"
    last, steady = -1, 0
    while steady < 2:  # the same number of chart texts twice, 400 ms apart
        page.wait_for_timeout(400)
        now = page.evaluate(count)
        steady, last = (steady + 1 if now == last else 0), now
    return page.evaluate("document.querySelectorAll('.js-plotly-plot').length")


def open_page(browser, url: str, width: int, height: int, user_agent: str | None = None, timeout_ms: int = 120_000) -> Visit:
    """`url` in a fresh context of that viewport, network beyond localhost blocked, app idle, charts drawn."""
    from urllib.parse import urlparse

    options = {"viewport": {"width": width, "height": height}}
    if user_agent:
        options.update(user_agent=user_agent, is_mobile=True, has_touch=True, device_scale_factor=1)
    context = browser.new_context(**options)
    visit = Visit(page=context.new_page())

    def route(route_request):
        host = urlparse(route_request.request.url).hostname or ""
        if host in LOCAL_HOSTS or route_request.request.url.startswith(("data:", "blob:")):
            route_request.continue_()
        else:
            visit.outside_requests.append(route_request.request.url)
            route_request.abort()

    context.route("**/*", route)
    visit.page.on("console", lambda msg: visit.console_errors.append(msg.text) if msg.type == "error" else None)
    visit.page.on("pageerror", lambda exc: visit.console_errors.append(str(exc)))
    visit.page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    wait_until_idle(visit.page, timeout_ms)
    wait_for_charts(visit.page, timeout_ms)
    return visit


@dataclass
class ChartScreen:
    key: str
    top: float  # the headline's top, px from the top of the screen, with the chart scrolled to
    bottom: float  # the chart's bottom
    room: float  # where the screen ends: its height, less the presenter's bar fixed at its foot
    width: float
    screen_width: float
    headline: str

    @property
    def fits(self) -> bool:
        return self.top >= 0 and self.bottom <= self.room + 0.5 and self.width <= self.screen_width


def chart_screens(page, scroll: bool = True) -> list[ChartScreen]:
    """Each presenting chart (its headline and plot) scrolled to as the presenter would (or where
    it is, without `scroll`): where it starts and ends against the screen above the bar."""
    keys = page.evaluate("""() => Array.from(document.querySelectorAll('[class*="st-key-present_chart_"]'))
        .map(e => Array.from(e.classList).find(c => c.startsWith('st-key-present_chart_')).slice('st-key-present_chart_'.length))""")
    screens = []
    for key in keys:
        screens.append(ChartScreen(key, **page.evaluate("""([key, scroll]) => {
            const box = document.querySelector('.st-key-present_chart_' + key);
            if (scroll) box.scrollIntoView({block: 'start'});
            const head = box.querySelector('.present-headline').getBoundingClientRect();
            const plot = box.querySelector('.js-plotly-plot').getBoundingClientRect();
            const bar = document.querySelector('.st-key-present_bar');
            return {top: head.top, bottom: plot.bottom, width: Math.max(head.right, plot.right) - Math.min(head.left, plot.left),
                    room: bar ? bar.getBoundingClientRect().top : innerHeight, screen_width: innerWidth,
                    headline: box.querySelector('.present-headline').innerText};
        }""", [key, scroll])))
    return screens


_OUTLINE_JS = """
() => {
  // Visible headings and content blocks of the main area in reading order.
  const main = document.querySelector('[data-testid="stMain"]');
  const seen = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'; };
  const items = [];
  main.querySelectorAll('h1, h2, h3, h4, h5, h6, [data-testid="stPlotlyChart"], [data-testid="stMetric"], p, li, [data-testid="stDataFrame"], button, [data-testid="stImage"], [data-testid="stAlert"]').forEach(el => {
    if (!seen(el) || el.closest('.st-key-present_bar') || !(el.innerText || '').trim() && /^H[1-6]$/.test(el.tagName)) return;
    const heading = /^H[1-6]$/.test(el.tagName);
    if (!heading && el.closest('h1, h2, h3, h4, h5, h6')) return;
    if (!heading && !(el.innerText || '').trim() && !el.matches('[data-testid="stPlotlyChart"], [data-testid="stImage"]')) return;
    items.push(heading ? {level: +el.tagName[1], text: el.innerText.trim()} : {level: 0, text: (el.innerText || el.getAttribute('data-testid') || '').trim().slice(0, 40)});
  });
  return items;
}
"""


def outline(page) -> list[tuple[int, str]]:
    """The main area's visible headings (level 1-6) and content (level 0), in reading order."""
    return [(item["level"], item["text"]) for item in page.evaluate(_OUTLINE_JS)]


def empty_headings(items: list[tuple[int, str]]) -> list[str]:
    """Headings with no content before the next heading of the same or a higher level."""
    empty = []
    for i, (level, text) in enumerate(items):
        if level == 0:
            continue
        rest = items[i + 1:]
        upto = next((k for k, (lv, _) in enumerate(rest) if 0 < lv <= level), len(rest))
        if not any(lv == 0 for lv, _ in rest[:upto]):
            empty.append(f"h{level} {text}")
    return empty


def heading_jumps(items: list[tuple[int, str]]) -> list[str]:
    """Headings more than one level below the one before (h1 then h3), and a first heading not h1."""
    levels = [(lv, t) for lv, t in items if lv]
    jumps = [f"h{levels[0][0]} first: {levels[0][1]}"] if levels and levels[0][0] != 1 else []
    return jumps + [f"h{a} -> h{b} {t}" for (a, _), (b, t) in zip(levels, levels[1:]) if b > a + 1]


def overlaps(texts: list[ChartText], share: float = 0.25) -> list[str]:
    """Pairs of texts of one chart that cover each other: their boxes share more than `share` of
    the smaller one's area (boxes are a glyph's height, so neighbours on separate lines do not touch)."""
    found = []
    by_plot: dict[int, list[ChartText]] = {}
    for text in texts:
        if not text.rotated:
            by_plot.setdefault(text.plot, []).append(text)
    for plot, items in by_plot.items():
        for i, a in enumerate(items):
            ax, _, aw, ah = a.box
            ay = a.page_y
            for b in items[i + 1:]:
                bx, _, bw, bh = b.box
                by = b.page_y
                w = min(ax + aw, bx + bw) - max(ax, bx)
                h = min(ay + ah, by + bh) - max(ay, by)
                if w > 0 and h > 0 and w * h > share * min(aw * ah, bw * bh):
                    found.append(f"chart {plot}: {a.text[:30]!r} over {b.text[:30]!r}")
    return found
