# Django looks up each format here first, then in its own English formats.
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i T"
MONTH_DAY_FORMAT = "j F"
