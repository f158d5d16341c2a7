"""Draw the app's icons (static/icons/): an SVG and the PNG sizes browsers and phones ask
for. Run by hand after changing the design: `.venv/bin/python scripts/make_icons.py`
(needs Pillow). The PNGs are committed, so nothing is drawn at run time.

The design: a calm teal rounded square with a white crescent moon (a bedtime dose) and a
small tick. Maskable icons keep everything inside the central 80% safe zone.
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "static" / "icons"
TEAL = (11, 94, 99, 255)
WHITE = (255, 255, 255, 255)
SIZES = [192, 512]  # the manifest's "any" icons; Chromium requires 192 and 512
APPLE = 180  # iOS home screen
FAVICON = 32

SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">
  <rect width="512" height="512" rx="112" fill="#0b5e63"/>
  <circle cx="216" cy="236" r="140" fill="#fff"/>
  <circle cx="280" cy="190" r="124" fill="#0b5e63"/>
  <path d="M318 366 l34 34 l70 -86" fill="none" stroke="#fff" stroke-width="30"
        stroke-linecap="round" stroke-linejoin="round"/>
</svg>
"""


def draw(size: int, *, maskable: bool = False) -> Image.Image:
    scale = 4  # draw large, then shrink: smooth edges without an anti-aliasing library
    s = size * scale
    image = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if maskable:
        pen.rectangle([0, 0, s, s], fill=TEAL)  # the platform cuts its own shape
        inner = 0.8  # the safe zone
    else:
        pen.rounded_rectangle([0, 0, s - 1, s - 1], radius=int(s * 112 / 512), fill=TEAL)
        inner = 1.0

    def at(value):  # a coordinate of the 512 design, scaled into the (safe) area
        return s / 2 + (value - 256) * inner * s / 512

    def circle(cx, cy, r, fill):
        pen.ellipse([at(cx - r), at(cy - r), at(cx + r), at(cy + r)], fill=fill)

    circle(216, 236, 140, WHITE)
    circle(280, 190, 124, TEAL)
    width = max(1, int(30 * inner * s / 512))
    pen.line([(at(318), at(366)), (at(352), at(400)), (at(422), at(314))], fill=WHITE, width=width)
    for x, y in [(318, 366), (352, 400), (422, 314)]:
        r = width / 2
        pen.ellipse([at(x) - r, at(y) - r, at(x) + r, at(y) + r], fill=WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon.svg").write_text(SVG)
    for size in SIZES:
        draw(size).save(OUT / f"icon-{size}.png", optimize=True)
        draw(size, maskable=True).save(OUT / f"icon-maskable-{size}.png", optimize=True)
    draw(APPLE, maskable=True).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)
    draw(FAVICON).save(OUT / "favicon-32.png", optimize=True)
    print(f"Icons written to {OUT}")


if __name__ == "__main__":
    main()
