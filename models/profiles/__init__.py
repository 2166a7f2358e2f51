"""A worker's profile: who they are and what they do.

The ID number is kept only sealed (AES-GCM, key id beside it), as a blind index for lookups and
as its masked form for display. The phone number comes preferably from WeChat's phone button
(then marked verified), typed in otherwise.
"""
