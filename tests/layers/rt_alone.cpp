// Linked with every object of the runtime (and, for layer-check-llm, of llm) and nothing
// above it: the link fails if a lower layer calls into a higher one (meson.build).
int main() { return 0; }
