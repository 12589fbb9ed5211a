from django.db import migrations, models


class Migration(migrations.Migration):
    """Sign-in links bound to the browser that asked. Links issued before have no nonce
    (an empty hash, which no nonce matches), so they stop working: they lived 15 minutes."""

    dependencies = [
        ("readers", "0002_accounts"),
    ]

    operations = [
        migrations.AddField(
            model_name="signinlink",
            name="nonce_hash",
            field=models.CharField(db_index=True, default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="signinlink",
            name="code_hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="signinlink",
            name="code_attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
    ]
