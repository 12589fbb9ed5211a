"""The one date format readers see (settings.FORMAT_MODULE_PATH): "7 December 2026", and
"7 December 2026, 14:05 JST" with the time. Templates write `|date:"DATE_FORMAT"` or
`|date:"DATETIME_FORMAT"`, never a pattern of their own; `<time datetime>` keeps ISO 8601."""
