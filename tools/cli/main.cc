#include <cstdio>
int main() { std::puts("recdb"); return 0; }
