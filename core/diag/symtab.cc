// core/diag/symtab.cc - see symtab.h.
#include "core/diag/symtab.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cxxabi.h>
#include <cstdlib>

#include <cstddef>
#include <cstring>
#include <initializer_list>

namespace gort {

namespace {

constexpr int kMaxObjects = 256;
constexpr int kMaxSegs = 4;

// Object: one loaded ELF object and its mapped file.
struct Object {
    uintptr_t base;  // dlpi_addr: a symbol's run-time address is base + st_value
    int nsegs;
    uintptr_t seglo[kMaxSegs], seghi[kMaxSegs];  // its executable PT_LOAD ranges
    void *map;
    std::size_t mapsize;
    const Elf64_Sym *syms;
    std::size_t nsyms;
    const char *strs;
    std::size_t strsz;
    // Demangled names, prepared here because the handler may not demangle
    // (__cxa_demangle allocates): dnames[k] for syms[k], nullptr where the
    // name is not a C++ one. One mapping holds the array and the strings.
    const char **dnames;
    std::size_t dmapsize;
};

// A fixed table, so that loading needs no allocator and a lookup no lock.
Object objects[kMaxObjects];
int nobjects = 0;
bool loaded = false;

bool in_file(std::size_t off, std::size_t len, std::size_t size) { return off <= size && len <= size - off; }

// index_file maps path and finds its symbol table: .symtab (every function,
// static ones included) if the file has one, else .dynsym.
bool index_file(Object *o, const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < off_t(sizeof(Elf64_Ehdr))) {
        close(fd);
        return false;
    }
    std::size_t size = std::size_t(st.st_size);
    void *m = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return false;
    const char *file = static_cast<const char *>(m);
    const auto *eh = reinterpret_cast<const Elf64_Ehdr *>(file);
    const Elf64_Shdr *sh = nullptr;
    if (std::memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
        eh->e_shentsize == sizeof(Elf64_Shdr) && eh->e_shoff != 0 &&
        in_file(eh->e_shoff, std::size_t(eh->e_shnum) * sizeof(Elf64_Shdr), size))
        sh = reinterpret_cast<const Elf64_Shdr *>(file + eh->e_shoff);
    const Elf64_Shdr *symsec = nullptr;
    for (int want : {SHT_SYMTAB, SHT_DYNSYM}) {
        for (int i = 0; sh != nullptr && i < eh->e_shnum && symsec == nullptr; i++)
            if (sh[i].sh_type == Elf64_Word(want)) symsec = &sh[i];
        if (symsec != nullptr) break;
    }
    if (symsec == nullptr || symsec->sh_link >= eh->e_shnum || !in_file(symsec->sh_offset, symsec->sh_size, size) ||
        !in_file(sh[symsec->sh_link].sh_offset, sh[symsec->sh_link].sh_size, size)) {
        munmap(m, size);
        return false;
    }
    const Elf64_Shdr *strsec = &sh[symsec->sh_link];
    o->map = m;
    o->mapsize = size;
    o->syms = reinterpret_cast<const Elf64_Sym *>(file + symsec->sh_offset);
    o->nsyms = symsec->sh_size / sizeof(Elf64_Sym);
    o->strs = file + strsec->sh_offset;
    o->strsz = strsec->sh_size;
    return true;
}

// demangle_all: o's function names demangled into one fresh mapping
// (outside any signal handler). Without it (no memory), names stay mangled.
void demangle_all(Object *o) {
    // First pass: the size needed.
    std::size_t bytes = o->nsyms * sizeof(const char *);
    auto each = [&](auto &&fn) {
        for (std::size_t k = 0; k < o->nsyms; k++) {
            const Elf64_Sym &sym = o->syms[k];
            unsigned type = ELF64_ST_TYPE(sym.st_info);
            if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
                sym.st_name >= o->strsz)
                continue;
            const char *mn = o->strs + sym.st_name;
            if (mn[0] != '_' || mn[1] != 'Z') continue;
            int st = -1;
            char *dm = abi::__cxa_demangle(mn, nullptr, nullptr, &st);
            if (st == 0 && dm != nullptr) fn(k, dm);
            std::free(dm);
        }
    };
    each([&](std::size_t, const char *dm) { bytes += std::strlen(dm) + 1; });
    void *m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return;
    auto **names = static_cast<const char **>(m);
    char *at = reinterpret_cast<char *>(names + o->nsyms);
    char *end = static_cast<char *>(m) + bytes;
    each([&](std::size_t k, const char *dm) {
        std::size_t n = std::strlen(dm) + 1;
        if (n > std::size_t(end - at)) return;  // the symbols changed under us: impossible for a mapped file
        std::memcpy(at, dm, n);
        names[k] = at;
        at += n;
    });
    o->dnames = names;
    o->dmapsize = bytes;
}

int add_object(struct dl_phdr_info *info, std::size_t, void *) {
    if (nobjects == kMaxObjects) return 1;
    Object o{};
    o.base = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum && o.nsegs < kMaxSegs; i++) {
        const ElfW(Phdr) &ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
        o.seglo[o.nsegs] = o.base + ph.p_vaddr;
        o.seghi[o.nsegs] = o.base + ph.p_vaddr + ph.p_memsz;
        o.nsegs++;
    }
    if (o.nsegs == 0) return 0;
    // The main program comes first, with an empty name. The vDSO has no
    // file and is skipped.
    const char *path = info->dlpi_name;
    if (path == nullptr || path[0] == '\0') path = nobjects == 0 ? "/proc/self/exe" : nullptr;
    if (path == nullptr || !index_file(&o, path)) return 0;
    demangle_all(&o);
    objects[nobjects++] = o;
    return 0;
}

}  // namespace

void symtab_load() {
    if (loaded) return;
    loaded = true;
    nobjects = 0;
    dl_iterate_phdr(add_object, nullptr);
}

void symtab_unload() {
    for (int i = 0; i < nobjects; i++) {
        munmap(objects[i].map, objects[i].mapsize);
        if (objects[i].dnames != nullptr) munmap(objects[i].dnames, objects[i].dmapsize);
    }
    nobjects = 0;
    loaded = false;
}

bool symtab_lookup(uintptr_t pc, const char **name, uintptr_t *off) {
    for (int i = 0; i < nobjects; i++) {
        const Object &o = objects[i];
        bool in = false;
        for (int s = 0; s < o.nsegs; s++) in = in || (pc >= o.seglo[s] && pc < o.seghi[s]);
        if (!in) continue;
        // The function symbol that contains pc; one without a size (some
        // assembly) counts up to the next symbol.
        uintptr_t rel = pc - o.base;
        const Elf64_Sym *best = nullptr;
        for (std::size_t k = 0; k < o.nsyms; k++) {
            const Elf64_Sym &s = o.syms[k];
            unsigned type = ELF64_ST_TYPE(s.st_info);
            if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF || s.st_value > rel) continue;
            if (s.st_size != 0 && rel >= s.st_value + s.st_size) continue;
            if (best == nullptr || s.st_value > best->st_value) best = &s;
        }
        if (best == nullptr || best->st_name >= o.strsz) return false;
        const char *dn = o.dnames != nullptr ? o.dnames[best - o.syms] : nullptr;
        *name = dn != nullptr ? dn : o.strs + best->st_name;
        *off = rel - best->st_value;
        return true;
    }
    return false;
}

}  // namespace gort
