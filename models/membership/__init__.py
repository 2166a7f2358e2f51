"""Union membership: member numbers, transfers and withdrawals, member cards, and the figures.

One active membership per person (decided by the ID number's blind index, not by WeChat
account) is enforced by the database: `active_key` holds the blind index while a membership is
active and NULL otherwise, under a unique constraint. The figures roll up the tree: every
admission, transfer and withdrawal adjusts the tallies of the org and all its ancestors in the
same transaction, so the figures of any subtree are one indexed read.
"""
