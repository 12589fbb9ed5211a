"""Access: the paywall. One pure decision (policy.py), a meter that counts what each reader
has opened (meter/), and the edge that applies both to every channel (gate.py)."""
