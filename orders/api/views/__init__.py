"""API edges, a module per concept: parse, call one service or selector, render."""
