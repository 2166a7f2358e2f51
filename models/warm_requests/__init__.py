"""Warm services (暖心服务): a worker asks their union for help, the right union takes it, answers
in time, and the worker says whether it helped.

    submitted ─assign─▶ assigned ─reply─▶ in_progress ─request_info─▶ waiting_worker
        │                  │                   ▲   │                        │
        │                  └──────reply────────┘   └─resolve─▶ resolved ◀───┘ (worker's message: back to in_progress)
        │                                            ▲            │  ├─rate──▶ closed
        └──────────── withdraw (any open state) ─────┼────────────┘  └─reopen (within REOPEN_DAYS) ─▶ in_progress
                                                     withdrawn

Each request runs two SLA timers of the kernel (first response, resolution) on its union's
policy (`sla.py`); a breach escalates it to the parent union's queue. Routing (`routing.py`)
finds the responsible union.
"""
