"""Lead images drawn locally with Pillow, so the demo needs no downloads.

Each picture is a deterministic abstract composition in the article's hue with a short
label, reproducible from the same inputs."""

import colorsys
import io
import random

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1600, 900


def _rgb(hue: int, saturation: float, lightness: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb((hue % 360) / 360, lightness, saturation)
    return round(r * 255), round(g * 255), round(b * 255)


def lead_image(*, seed: str, hue: int, label: str) -> bytes:
    """A JPEG: a vertical gradient, overlapping translucent shapes and the label."""
    rng = random.Random(seed)  # noqa: S311 - picture layout, not security
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    top, bottom = _rgb(hue, 0.45, 0.30), _rgb(hue + 25, 0.55, 0.62)
    for y in range(HEIGHT):
        t = y / (HEIGHT - 1)
        draw.line(
            [(0, y), (WIDTH, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    overlay = Image.new("RGBA", (WIDTH, HEIGHT), (0, 0, 0, 0))
    shapes = ImageDraw.Draw(overlay)
    for _ in range(14):
        x, y = rng.randrange(-200, WIDTH), rng.randrange(-200, HEIGHT)
        size = rng.randrange(120, 520)
        colour = (*_rgb(hue + rng.randrange(-40, 40), 0.5, rng.uniform(0.35, 0.8)), 90)
        if rng.random() < 0.5:
            shapes.ellipse([x, y, x + size, y + size], fill=colour)
        else:
            shapes.rectangle([x, y, x + size * 1.6, y + size * 0.5], fill=colour)
    image = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=96)
    draw.rectangle([0, HEIGHT - 190, WIDTH, HEIGHT - 60], fill=(20, 20, 20))
    draw.text((80, HEIGHT - 175), label.upper(), font=font, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82, optimize=True, progressive=True)
    return out.getvalue()


PORTRAIT_SIZE = 640


def author_portrait(*, seed: str, hue: int, initials: str) -> bytes:
    """A square JPEG standing in for an author's photo: a head-and-shoulders silhouette on a
    background in the author's hue, with their initials on the chest. Drawn, not downloaded,
    and plainly not a photograph of anyone."""
    rng = random.Random(seed)  # noqa: S311 - picture layout, not security
    size = PORTRAIT_SIZE
    image = Image.new("RGB", (size, size), _rgb(hue, 0.35, 0.78))
    draw = ImageDraw.Draw(image)
    for ring in range(6, 0, -1):  # soft concentric backdrop
        radius = size * ring / 9
        shade = _rgb(hue + rng.randrange(-12, 12), 0.4, 0.62 + ring * 0.03)
        draw.ellipse(
            [size / 2 - radius, size * 0.42 - radius, size / 2 + radius, size * 0.42 + radius],
            fill=shade,
        )
    body = _rgb(hue + 180, 0.25, 0.28)
    skin = _rgb(rng.randrange(18, 34), rng.uniform(0.3, 0.5), rng.uniform(0.35, 0.72))
    draw.ellipse([size * 0.16, size * 0.66, size * 0.84, size * 1.3], fill=body)  # shoulders
    draw.rectangle([size * 0.44, size * 0.55, size * 0.56, size * 0.7], fill=skin)  # neck
    draw.ellipse([size * 0.33, size * 0.22, size * 0.67, size * 0.62], fill=skin)  # head
    hair = _rgb(rng.randrange(0, 40), 0.3, rng.uniform(0.08, 0.3))
    draw.chord([size * 0.31, size * 0.18, size * 0.69, size * 0.5], 180, 360, fill=hair)
    font = ImageFont.load_default(size=size // 9)
    draw.text(
        (size / 2, size * 0.86), initials.upper(), font=font, fill=(255, 255, 255), anchor="mm"
    )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()
