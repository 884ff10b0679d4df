"""Reminders: what is due (a certificate's apply-by date, a registration lapsing), sent once.

:mod:`.rules` decides what is due on a day; :mod:`.services` records each
reminder once per recipient, threshold and channel (a unique key, so several
machines running ``registry reminders run`` at once never send one twice)
and sends the e-mails with retries; :mod:`.mail` speaks SMTP or writes to a
folder; the in-app inbox is the ``inbox`` channel of the same log.
"""
