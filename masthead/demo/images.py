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
