from wagtail import blocks
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageChooserBlock

PARAGRAPH_FEATURES = ["bold", "italic", "link"]


class CaptionedImageBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    alt_text = blocks.CharBlock(
        required=False, help_text="Describe the picture for readers who cannot see it."
    )
    caption = blocks.CharBlock(required=False)
    credit = blocks.CharBlock(required=False)

    class Meta:
        icon = "image"
        template = "news/blocks/captioned_image.html"


class PullQuoteBlock(blocks.StructBlock):
    quote = blocks.TextBlock()
    attribution = blocks.CharBlock(required=False)

    class Meta:
        icon = "openquote"
        template = "news/blocks/pull_quote.html"


class ArticleBodyBlock(blocks.StreamBlock):
    paragraph = blocks.RichTextBlock(features=PARAGRAPH_FEATURES)
    subheading = blocks.CharBlock(
        form_classname="title", template="news/blocks/subheading.html", icon="title"
    )
    image = CaptionedImageBlock()
    pull_quote = PullQuoteBlock()
    embed = EmbedBlock(
        help_text="Embeds load content from another site; use sparingly.", icon="media"
    )
