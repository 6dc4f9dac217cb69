"""Expiry reminders become a state machine (claimed by the sweep, sent by a job, retried):
state, claimed_at, attempts, next/last attempt, last error; sent_at null until sent. The rows
already there were sent under the old scheme: they become `sent`, claimed when they were sent."""

from django.db import migrations, models
from django.db.models import F


def existing_rows_were_sent(apps, schema_editor):
    ExpiryReminder = apps.get_model("enrollments", "ExpiryReminder")
    ExpiryReminder.objects.update(state="sent", claimed_at=F("sent_at"), attempts=1)


class Migration(migrations.Migration):

    dependencies = [
        ('enrollments', '0010_audit_enrollment_constraint'),
    ]

    operations = [
        migrations.AddField(
            model_name='expiryreminder',
            name='state',
            field=models.CharField(choices=[('pending', 'waiting for its send job'), ('sending', 'being sent'), ('sent', 'sent'), ('failed', 'failed for good')], default='pending', max_length=7),
        ),
        migrations.AddField(
            model_name='expiryreminder',
            name='claimed_at',
            field=models.DateTimeField(null=True, help_text='When a sweep claimed it.'),
        ),
        migrations.AddField(
            model_name='expiryreminder',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0, help_text='Sends tried (the mail server reached or not).'),
        ),
        migrations.AddField(
            model_name='expiryreminder',
            name='next_attempt_at',
            field=models.DateTimeField(blank=True, help_text='Pending: when its send job is due.', null=True),
        ),
        migrations.AddField(
            model_name='expiryreminder',
            name='last_attempt_at',
            field=models.DateTimeField(blank=True, help_text='When the latest send began.', null=True),
        ),
        migrations.AddField(
            model_name='expiryreminder',
            name='last_error',
            field=models.TextField(blank=True, default=''),
        ),
        migrations.AlterField(
            model_name='expiryreminder',
            name='sent_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(existing_rows_were_sent, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name='expiryreminder',
            name='claimed_at',
            field=models.DateTimeField(help_text='When a sweep claimed it.'),
        ),
        migrations.AddIndex(
            model_name='expiryreminder',
            index=models.Index(condition=models.Q(('state', 'sent'), _negated=True), fields=['state'], name='expiryreminder_unsent_idx'),
        ),
    ]
