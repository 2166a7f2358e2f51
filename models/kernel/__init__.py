"""The case kernel: machinery every case type shares. It imports no domain; domains plug in
through the small registries and callbacks each module defines."""
