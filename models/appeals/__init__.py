"""Workers' demands (职工诉求): what a worker wants changed, filed with their union.

    submitted ──reply──▶ replied ──take_up──▶ taken_up
        └──────────────take_up──────────────────▲
    (a further reply, from replied or taken_up, keeps the state: `follow_up`)

A worker files a demand on a topic from the catalogue (the negotiation topics among them), names
their platform or employer, and may stay anonymous: caseworkers then never see who filed it. The
union replies (each reply reaches the worker through the outbox) and marks demands taken up for
collective negotiation; caseworkers tally demands by topic × platform (× month) for their subtree.
Every step goes through the case kernel, so history and audit come from there.
"""
