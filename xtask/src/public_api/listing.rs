//! The listing: the crate read from its source with `syn`, every item users
//! can name written as one line (see the parent module for the format).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit_mut::{self, VisitMut};
use syn::{
    Attribute, Fields, FnArg, GenericParam, Generics, ImplItem, Item, Meta, Pat, Signature,
    TraitItem, Type, UseTree, Visibility,
};

/// The listing of the crate whose root is `lib`, its paths starting with
/// `crate_name`: sorted, one line per item.
pub fn listing(lib: &Path, crate_name: &str) -> Result<Vec<String>, String> {
    let mut krate = Crate {
        name: crate_name.to_string(),
        ..Crate::default()
    };
    let file = parse(lib)?;
    let root = krate.add_module(None, "", Vec::new());
    let dir = lib.parent().unwrap_or(Path::new(".")).to_path_buf();
    let at = Location {
        file: lib.to_path_buf(),
        file_dir: dir.clone(),
        child_dir: dir,
        inline: false,
    };
    krate.add_items(root, file.items, &at)?;
    krate.walk(
        root,
        vec![crate_name.to_string()],
        Vec::new(),
        &mut BTreeSet::new(),
    );
    let mut lines = krate.lines();
    lines.sort();
    lines.dedup();
    Ok(lines)
}

fn parse(path: &Path) -> Result<syn::File, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    syn::parse_file(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Where the items being read are: for `#[path]` and `mod foo;`.
struct Location {
    file: PathBuf,
    /// The folder of the file.
    file_dir: PathBuf,
    /// Where `mod foo;` looks for `foo.rs` and `foo/mod.rs`.
    child_dir: PathBuf,
    /// Inside an inline `mod foo { ... }`, where `#[path]` is relative to
    /// `child_dir` rather than to the file's folder.
    inline: bool,
}

#[derive(Default)]
struct Crate {
    name: String,
    modules: Vec<Module>,
    defs: Vec<Def>,
    impls: Vec<Impl>,
    macros: Vec<(String, Vec<String>)>,
    /// Every path each item and module is reachable at.
    def_paths: BTreeMap<usize, Vec<Reached>>,
    mod_paths: BTreeMap<usize, Vec<Reached>>,
    /// `pub use` of something that is not a local item (a foreign item, an
    /// enum's variant): the path, the cfg, what it names.
    reexports: Vec<(Vec<String>, Vec<String>, String)>,
}

/// A path an item is reachable at, and the cfg predicates on the way.
type Reached = (Vec<String>, Vec<String>);

struct Module {
    parent: Option<usize>,
    /// The cfg predicates on the module and the modules around it.
    cfg: Vec<String>,
    /// The path inside the crate, without the crate's name.
    path: Vec<String>,
    names: BTreeMap<String, Vec<Binding>>,
    globs: Vec<Binding>,
}

struct Binding {
    public: bool,
    hidden: bool,
    cfg: Vec<String>,
    target: Target,
}

enum Target {
    Def(usize),
    /// A `use` path, resolved from the module it is in.
    Use(UsePath),
    /// `extern crate self as name`.
    Root,
}

#[derive(Clone, Debug)]
struct UsePath {
    absolute: bool,
    segments: Vec<String>,
}

struct Def {
    module: usize,
    name: String,
    item: Item,
    /// The cfg predicates on the item and on the modules around it.
    cfg: Vec<String>,
    child: Option<usize>,
}

struct Impl {
    module: usize,
    item: syn::ItemImpl,
    cfg: Vec<String>,
}

/// What a path names.
#[derive(Clone, Debug)]
enum Res {
    Mod(usize),
    /// An item, then the segments after it (an associated item, a variant).
    Def(usize, Vec<String>),
    External(Vec<String>),
}

/// The attributes of an item that matter here.
#[derive(Default)]
struct Attrs {
    cfg: Vec<String>,
    test: bool,
    hidden: bool,
    path: Option<String>,
    shown: Vec<String>,
    derives: Vec<(Option<String>, syn::Path)>,
    macro_export: bool,
}

fn read_attrs(attrs: &[Attribute]) -> Attrs {
    let mut out = Attrs::default();
    for attr in attrs {
        read_meta(&attr.meta, None, &mut out);
    }
    out.shown.sort();
    out.shown.dedup();
    out
}

fn read_meta(meta: &Meta, condition: Option<&str>, out: &mut Attrs) {
    let name = meta
        .path()
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    match (name.as_str(), meta) {
        ("cfg", Meta::List(list)) if condition.is_none() => {
            let predicate = render(list.tokens.clone());
            if predicate == "test" {
                out.test = true;
            } else {
                out.cfg.push(predicate);
            }
        }
        ("cfg_attr", Meta::List(list)) if condition.is_none() => {
            let mut parts = split_commas(list.tokens.clone()).into_iter();
            let Some(predicate) = parts.next().map(render) else {
                return;
            };
            if predicate == "test" {
                return;
            }
            for part in parts {
                if let Ok(inner) = syn::parse2::<Meta>(part) {
                    read_meta(&inner, Some(&predicate), out);
                }
            }
        }
        ("doc", Meta::List(list)) if condition.is_none() => {
            let hidden = list
                .tokens
                .clone()
                .into_iter()
                .any(|t| matches!(&t, TokenTree::Ident(i) if i == "hidden"));
            out.hidden |= hidden;
        }
        ("path", Meta::NameValue(value)) if condition.is_none() => {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &value.value
            {
                out.path = Some(s.value());
            }
        }
        ("derive", Meta::List(list)) => {
            for part in split_commas(list.tokens.clone()) {
                if let Ok(path) = syn::parse2::<syn::Path>(part) {
                    out.derives.push((condition.map(str::to_string), path));
                }
            }
        }
        ("macro_export", _) => out.macro_export = true,
        ("non_exhaustive" | "repr" | "deprecated", _) => {
            let text = render(meta.to_token_stream());
            out.shown.push(match condition {
                Some(predicate) => format!("#[cfg_attr({predicate}, {text})]"),
                None => format!("#[{text}]"),
            });
        }
        _ => {}
    }
}

fn split_commas(tokens: TokenStream) -> Vec<TokenStream> {
    let mut parts = vec![TokenStream::new()];
    for token in tokens {
        match &token {
            TokenTree::Punct(p) if p.as_char() == ',' => parts.push(TokenStream::new()),
            _ => parts.last_mut().expect("one part").extend([token]),
        }
    }
    parts.retain(|p| !p.is_empty());
    parts
}

fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

fn item_name_and_vis(item: &Item) -> Option<(String, &Visibility)> {
    let (ident, vis) = match item {
        Item::Const(i) => (&i.ident, &i.vis),
        Item::Enum(i) => (&i.ident, &i.vis),
        Item::Fn(i) => (&i.sig.ident, &i.vis),
        Item::Static(i) => (&i.ident, &i.vis),
        Item::Struct(i) => (&i.ident, &i.vis),
        Item::Trait(i) => (&i.ident, &i.vis),
        Item::TraitAlias(i) => (&i.ident, &i.vis),
        Item::Type(i) => (&i.ident, &i.vis),
        Item::Union(i) => (&i.ident, &i.vis),
        _ => return None,
    };
    Some((ident.to_string(), vis))
}

fn is_pub(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

fn union(a: &[String], b: &[String]) -> Vec<String> {
    let set: BTreeSet<&String> = a.iter().chain(b).collect();
    set.into_iter().cloned().collect()
}

/// Each name a `use` tree brings in, with its path; `*` for a glob.
fn use_names(tree: &UseTree, prefix: &mut Vec<String>, out: &mut Vec<(String, Vec<String>)>) {
    match tree {
        UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_names(&p.tree, prefix, out);
            prefix.pop();
        }
        UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name == "self" {
                if let Some(last) = prefix.last() {
                    out.push((last.clone(), prefix.clone()));
                }
            } else {
                let mut path = prefix.clone();
                path.push(name.clone());
                out.push((name, path));
            }
        }
        UseTree::Rename(r) => {
            let rename = r.rename.to_string();
            if rename == "_" {
                return;
            }
            let mut path = prefix.clone();
            if r.ident != "self" {
                path.push(r.ident.to_string());
            }
            out.push((rename, path));
        }
        UseTree::Glob(_) => out.push(("*".to_string(), prefix.clone())),
        UseTree::Group(g) => {
            for tree in &g.items {
                use_names(tree, prefix, out);
            }
        }
    }
}

impl Crate {
    fn add_module(&mut self, parent: Option<usize>, name: &str, cfg: Vec<String>) -> usize {
        let mut path = parent
            .map(|p| self.modules[p].path.clone())
            .unwrap_or_default();
        if parent.is_some() {
            path.push(name.to_string());
        }
        self.modules.push(Module {
            parent,
            cfg,
            path,
            names: BTreeMap::new(),
            globs: Vec::new(),
        });
        self.modules.len() - 1
    }

    fn bind(&mut self, module: usize, name: String, binding: Binding) {
        self.modules[module]
            .names
            .entry(name)
            .or_default()
            .push(binding);
    }

    fn add_def(&mut self, module: usize, name: &str, item: Item, cfg: Vec<String>) -> usize {
        self.defs.push(Def {
            module,
            name: name.to_string(),
            item,
            cfg,
            child: None,
        });
        self.defs.len() - 1
    }

    fn add_items(&mut self, module: usize, items: Vec<Item>, at: &Location) -> Result<(), String> {
        let module_cfg = self.modules[module].cfg.clone();
        for item in items {
            let attrs = read_attrs(item_attrs(&item));
            if attrs.test {
                continue;
            }
            let cfg = union(&module_cfg, &attrs.cfg);
            match item {
                Item::Mod(m) => self.add_mod(module, m, attrs, cfg, at)?,
                Item::Use(u) => {
                    let mut names = Vec::new();
                    use_names(&u.tree, &mut Vec::new(), &mut names);
                    for (name, segments) in names {
                        let binding = Binding {
                            public: is_pub(&u.vis),
                            hidden: attrs.hidden,
                            cfg: attrs.cfg.clone(),
                            target: Target::Use(UsePath {
                                absolute: u.leading_colon.is_some(),
                                segments,
                            }),
                        };
                        if name == "*" {
                            self.modules[module].globs.push(binding);
                        } else {
                            self.bind(module, name, binding);
                        }
                    }
                }
                Item::ExternCrate(e) => {
                    let name = e
                        .rename
                        .as_ref()
                        .map_or_else(|| e.ident.to_string(), |(_, r)| r.to_string());
                    let target = if e.ident == "self" {
                        Target::Root
                    } else {
                        Target::Use(UsePath {
                            absolute: true,
                            segments: vec![e.ident.to_string()],
                        })
                    };
                    let binding = Binding {
                        public: is_pub(&e.vis),
                        hidden: attrs.hidden,
                        cfg: attrs.cfg,
                        target,
                    };
                    self.bind(module, name, binding);
                }
                Item::Impl(item) => {
                    if !attrs.hidden {
                        self.impls.push(Impl { module, item, cfg });
                    }
                }
                Item::Macro(m) => {
                    if let (Some(ident), true, false) = (&m.ident, attrs.macro_export, attrs.hidden)
                    {
                        self.macros.push((ident.to_string(), cfg));
                    }
                }
                item => {
                    let Some((name, vis)) = item_name_and_vis(&item) else {
                        continue;
                    };
                    let public = is_pub(vis);
                    let def = self.add_def(module, &name, item, cfg);
                    let binding = Binding {
                        public,
                        hidden: attrs.hidden,
                        cfg: attrs.cfg,
                        target: Target::Def(def),
                    };
                    self.bind(module, name, binding);
                }
            }
        }
        Ok(())
    }

    fn add_mod(
        &mut self,
        module: usize,
        m: syn::ItemMod,
        attrs: Attrs,
        cfg: Vec<String>,
        at: &Location,
    ) -> Result<(), String> {
        let name = m.ident.to_string();
        let (items, inner, hidden, cfg) = match m.content {
            Some((_, items)) => {
                let dir = at.child_dir.join(attrs.path.as_deref().unwrap_or(&name));
                let inner = Location {
                    file: at.file.clone(),
                    file_dir: at.file_dir.clone(),
                    child_dir: dir,
                    inline: true,
                };
                (items, inner, attrs.hidden, cfg)
            }
            None => {
                let (file, child_dir) = match &attrs.path {
                    Some(path) => {
                        // A file named by `#[path]` holds its children next to it.
                        let base = if at.inline {
                            &at.child_dir
                        } else {
                            &at.file_dir
                        };
                        let file = base.join(path);
                        let dir = file.parent().unwrap_or(base).to_path_buf();
                        (file, dir)
                    }
                    None => {
                        let flat = at.child_dir.join(format!("{name}.rs"));
                        let nested = at.child_dir.join(&name).join("mod.rs");
                        let file = if flat.is_file() {
                            flat
                        } else if nested.is_file() {
                            nested
                        } else {
                            return Err(format!(
                                "{}: `mod {name};` has no file: neither {} nor {}",
                                at.file.display(),
                                flat.display(),
                                nested.display()
                            ));
                        };
                        (file, at.child_dir.join(&name))
                    }
                };
                let parsed = parse(&file)?;
                let inner_attrs = read_attrs(&parsed.attrs);
                if inner_attrs.test {
                    return Ok(());
                }
                let inner = Location {
                    file_dir: file.parent().unwrap_or(Path::new(".")).to_path_buf(),
                    file,
                    child_dir,
                    inline: false,
                };
                let hidden = attrs.hidden || inner_attrs.hidden;
                (parsed.items, inner, hidden, union(&cfg, &inner_attrs.cfg))
            }
        };
        let child = self.add_module(Some(module), &name, cfg.clone());
        let def = self.add_def(module, &name, Item::Verbatim(TokenStream::new()), cfg);
        self.defs[def].child = Some(child);
        let binding = Binding {
            public: is_pub(&m.vis),
            hidden,
            cfg: attrs.cfg,
            target: Target::Def(def),
        };
        self.bind(module, name, binding);
        self.add_items(child, items, &inner)
    }

    // -- Names ---------------------------------------------------------------

    /// What `name` names in `module`: its items and imports, else what its
    /// glob imports bring.
    fn lookup(&self, module: usize, name: &str, depth: usize) -> Vec<Res> {
        if depth > 32 {
            return Vec::new();
        }
        let mut out = Vec::new();
        if let Some(bindings) = self.modules[module].names.get(name) {
            for binding in bindings {
                out.extend(self.target(module, &binding.target, depth));
            }
        }
        for glob in &self.modules[module].globs {
            if !out.is_empty() {
                break;
            }
            if let Target::Use(path) = &glob.target {
                for res in self.resolve(module, path, depth + 1) {
                    if let Res::Mod(m) = res {
                        out.extend(self.lookup(m, name, depth + 1));
                    }
                }
            }
        }
        out
    }

    fn target(&self, module: usize, target: &Target, depth: usize) -> Vec<Res> {
        match target {
            Target::Def(d) => vec![match self.defs[*d].child {
                Some(child) => Res::Mod(child),
                None => Res::Def(*d, Vec::new()),
            }],
            Target::Use(path) => self.resolve(module, path, depth + 1),
            Target::Root => vec![Res::Mod(0)],
        }
    }

    /// What `path` names, written in `module`; a path that starts with no
    /// local name is a foreign one.
    fn resolve(&self, module: usize, path: &UsePath, depth: usize) -> Vec<Res> {
        let segments = &path.segments;
        if depth > 32 || segments.is_empty() {
            return Vec::new();
        }
        if path.absolute {
            return vec![Res::External(segments.clone())];
        }
        let (mut current, rest) = match segments[0].as_str() {
            "crate" => (vec![Res::Mod(0)], &segments[1..]),
            "self" => (vec![Res::Mod(module)], &segments[1..]),
            "super" => {
                let mut m = module;
                let mut i = 0;
                while segments.get(i).is_some_and(|s| s == "super") {
                    let Some(parent) = self.modules[m].parent else {
                        return Vec::new();
                    };
                    m = parent;
                    i += 1;
                }
                (vec![Res::Mod(m)], &segments[i..])
            }
            first => {
                let found = self.lookup(module, first, depth);
                if found.is_empty() {
                    return vec![Res::External(segments.clone())];
                }
                (found, &segments[1..])
            }
        };
        for segment in rest {
            let Some(best) = self.best(current) else {
                return Vec::new();
            };
            current = match best {
                Res::Mod(m) => self.lookup(m, segment, depth),
                Res::Def(d, mut after) => {
                    after.push(segment.clone());
                    vec![Res::Def(d, after)]
                }
                Res::External(mut path) => {
                    path.push(segment.clone());
                    vec![Res::External(path)]
                }
            };
        }
        current
    }

    /// Of what a path in a type names: a module, a type, another item.
    fn best(&self, results: Vec<Res>) -> Option<Res> {
        results.into_iter().min_by_key(|res| match res {
            Res::Mod(_) => 0,
            Res::Def(d, _) => match self.defs[*d].item {
                Item::Struct(_)
                | Item::Enum(_)
                | Item::Union(_)
                | Item::Trait(_)
                | Item::TraitAlias(_)
                | Item::Type(_) => 1,
                _ => 2,
            },
            Res::External(_) => 3,
        })
    }

    /// The public names of `module`, with their cfg and what they name.
    fn exports(&self, module: usize, depth: usize) -> Vec<(String, Vec<String>, Vec<Res>)> {
        let m = &self.modules[module];
        let mut out = Vec::new();
        for (name, bindings) in &m.names {
            for binding in bindings.iter().filter(|b| b.public && !b.hidden) {
                let targets = self.target(module, &binding.target, 0);
                out.push((name.clone(), binding.cfg.clone(), targets));
            }
        }
        if depth > 8 {
            return out;
        }
        for glob in m.globs.iter().filter(|b| b.public && !b.hidden) {
            let Target::Use(path) = &glob.target else {
                continue;
            };
            for res in self.resolve(module, path, 0) {
                match res {
                    Res::Mod(inner) => {
                        for (name, cfg, targets) in self.exports(inner, depth + 1) {
                            if !m.names.contains_key(&name) {
                                out.push((name, union(&glob.cfg, &cfg), targets));
                            }
                        }
                    }
                    // A glob of an enum's variants or of another crate's
                    // module is listed as it is written.
                    Res::Def(d, mut rest) => {
                        rest.push("*".to_string());
                        out.push(("*".to_string(), glob.cfg.clone(), vec![Res::Def(d, rest)]));
                    }
                    Res::External(mut path) => {
                        path.push("*".to_string());
                        out.push(("*".to_string(), glob.cfg.clone(), vec![Res::External(path)]));
                    }
                }
            }
        }
        out
    }

    /// Records every path users can name the items of `module` by.
    fn walk(
        &mut self,
        module: usize,
        path: Vec<String>,
        cfg: Vec<String>,
        seen: &mut BTreeSet<(usize, Vec<String>)>,
    ) {
        if path.len() > 24 || !seen.insert((module, path.clone())) {
            return;
        }
        let cfg = union(&cfg, &self.modules[module].cfg);
        self.mod_paths
            .entry(module)
            .or_default()
            .push((path.clone(), cfg.clone()));
        for (name, binding_cfg, targets) in self.exports(module, 0) {
            let cfg = union(&cfg, &binding_cfg);
            let mut inner = path.clone();
            inner.push(name);
            for res in targets {
                match res {
                    Res::Mod(m) => self.walk(m, inner.clone(), cfg.clone(), seen),
                    Res::Def(d, rest) if rest.is_empty() => {
                        let cfg = union(&cfg, &self.defs[d].cfg);
                        self.def_paths
                            .entry(d)
                            .or_default()
                            .push((inner.clone(), cfg));
                    }
                    other => {
                        let target = self.res_path(&other).join("::");
                        self.reexports.push((inner.clone(), cfg.clone(), target));
                    }
                }
            }
        }
    }

    fn def_canonical(&self, def: usize) -> Option<&Reached> {
        let paths = self.def_paths.get(&def)?;
        canonical(paths, Some(&self.defs[def].name))
    }

    fn mod_canonical(&self, module: usize) -> Option<&Reached> {
        let paths = self.mod_paths.get(&module)?;
        canonical(paths, self.modules[module].path.last())
    }

    fn def_path(&self, def: usize) -> Vec<String> {
        match self.def_canonical(def) {
            Some((path, _)) => path.clone(),
            None => {
                let d = &self.defs[def];
                let mut path = self.internal_path(d.module);
                path.push(d.name.clone());
                path
            }
        }
    }

    fn mod_path(&self, module: usize) -> Vec<String> {
        match self.mod_canonical(module) {
            Some((path, _)) => path.clone(),
            None => self.internal_path(module),
        }
    }

    /// Where an item nobody outside can name is in the source.
    fn internal_path(&self, module: usize) -> Vec<String> {
        let mut path = vec![self.name.clone()];
        path.extend(self.modules[module].path.iter().cloned());
        path
    }

    fn res_path(&self, res: &Res) -> Vec<String> {
        match res {
            Res::Mod(m) => self.mod_path(*m),
            Res::Def(d, rest) => {
                let mut path = self.def_path(*d);
                path.extend(rest.iter().cloned());
                path
            }
            Res::External(path) => external(path),
        }
    }

    fn reachable(&self, def: usize) -> bool {
        self.def_paths.contains_key(&def)
    }

    // -- Lines ---------------------------------------------------------------

    fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (&module, paths) in &self.mod_paths {
            let Some((path, cfg)) = self.mod_canonical(module) else {
                continue;
            };
            if module != 0 {
                let name = path.last().expect("a module has a name");
                out.push(line(path, cfg, &[], &format!("pub mod {name}")));
            }
            aliases(path, paths, &mut out);
        }
        for (&def, paths) in &self.def_paths {
            let Some((path, cfg)) = self.def_canonical(def) else {
                continue;
            };
            self.def_lines(def, path, cfg, &mut out);
            aliases(path, paths, &mut out);
        }
        for (path, cfg, target) in &self.reexports {
            out.push(line(path, cfg, &[], &format!("pub use {target}")));
        }
        for imp in &self.impls {
            self.impl_lines(imp, &mut out);
        }
        for (name, cfg) in &self.macros {
            let path = [self.name.clone(), name.clone()];
            out.push(line(&path, cfg, &[], &format!("macro_rules! {name}")));
        }
        out
    }

    fn def_lines(&self, def: usize, path: &[String], cfg: &[String], out: &mut Vec<String>) {
        let d = &self.defs[def];
        let attrs = read_attrs(item_attrs(&d.item));
        let mut rw = Rewriter::new(self, d.module);
        let shown = &attrs.shown;
        match &d.item {
            Item::Struct(s) => {
                let (params, wc) = rw.generics(&s.generics);
                let shape = self.field_lines(&mut rw, &s.fields, path, cfg, out);
                let decl = format!("pub struct {}{params}{wc}{shape}", s.ident);
                out.push(line(path, cfg, shown, &decl));
                self.derive_lines(&mut rw, &attrs, &s.generics, path, cfg, out);
            }
            Item::Union(u) => {
                let (params, wc) = rw.generics(&u.generics);
                let fields = Fields::Named(u.fields.clone());
                let shape = self.field_lines(&mut rw, &fields, path, cfg, out);
                let decl = format!("pub union {}{params}{wc}{shape}", u.ident);
                out.push(line(path, cfg, shown, &decl));
                self.derive_lines(&mut rw, &attrs, &u.generics, path, cfg, out);
            }
            Item::Enum(e) => {
                let (params, wc) = rw.generics(&e.generics);
                let decl = format!("pub enum {}{params}{wc}", e.ident);
                out.push(line(path, cfg, shown, &decl));
                for variant in &e.variants {
                    let a = read_attrs(&variant.attrs);
                    if a.test || a.hidden {
                        continue;
                    }
                    let fields = match &variant.fields {
                        Fields::Named(named) => {
                            let fields: Vec<String> = named
                                .named
                                .iter()
                                .filter(|f| !read_attrs(&f.attrs).test)
                                .map(|f| {
                                    let name = f.ident.as_ref().expect("a named field");
                                    format!("{name}: {}", rw.ty(&f.ty))
                                })
                                .collect();
                            format!(" {{ {} }}", fields.join(", "))
                        }
                        Fields::Unnamed(unnamed) => {
                            let fields: Vec<String> = unnamed
                                .unnamed
                                .iter()
                                .filter(|f| !read_attrs(&f.attrs).test)
                                .map(|f| rw.ty(&f.ty))
                                .collect();
                            format!("({})", fields.join(", "))
                        }
                        Fields::Unit => String::new(),
                    };
                    let discriminant = variant
                        .discriminant
                        .as_ref()
                        .map(|(_, e)| format!(" = {}", render(e.to_token_stream())))
                        .unwrap_or_default();
                    let mut inner = path.to_vec();
                    inner.push(variant.ident.to_string());
                    let decl = format!("{}{fields}{discriminant}", variant.ident);
                    out.push(line(&inner, &union(cfg, &a.cfg), &a.shown, &decl));
                }
                self.derive_lines(&mut rw, &attrs, &e.generics, path, cfg, out);
            }
            Item::Trait(t) => {
                let (params, wc) = rw.generics(&t.generics);
                let supertraits = if t.supertraits.is_empty() {
                    String::new()
                } else {
                    format!(": {}", rw.bounds(&t.supertraits))
                };
                let decl = format!(
                    "pub {}{}trait {}{params}{supertraits}{wc}",
                    if t.unsafety.is_some() { "unsafe " } else { "" },
                    if t.modifiers.auto_token.is_some() {
                        "auto "
                    } else {
                        ""
                    },
                    t.ident
                );
                out.push(line(path, cfg, shown, &decl));
                for item in &t.items {
                    let (attrs, name, decl) = match item {
                        TraitItem::Fn(f) => {
                            let provided = if f.default.is_some() { " { .. }" } else { "" };
                            let sig = rw.sig(&f.sig);
                            (
                                &f.attrs,
                                f.sig.ident.to_string(),
                                format!("{sig}{provided}"),
                            )
                        }
                        TraitItem::Type(ty) => {
                            let mut inner = rw.scoped(&ty.generics);
                            let (params, wc) = inner.generics(&ty.generics);
                            let bounds = if ty.bounds.is_empty() {
                                String::new()
                            } else {
                                format!(": {}", inner.bounds(&ty.bounds))
                            };
                            let default = ty
                                .default
                                .as_ref()
                                .map(|(_, t)| format!(" = {}", inner.ty(t)))
                                .unwrap_or_default();
                            let decl = format!("type {}{params}{bounds}{default}{wc}", ty.ident);
                            (&ty.attrs, ty.ident.to_string(), decl)
                        }
                        TraitItem::Const(c) => {
                            let default = if c.default.is_some() { " = .." } else { "" };
                            let decl = format!("const {}: {}{default}", c.ident, rw.ty(&c.ty));
                            (&c.attrs, c.ident.to_string(), decl)
                        }
                        _ => continue,
                    };
                    let a = read_attrs(attrs);
                    if a.test || a.hidden {
                        continue;
                    }
                    let mut inner = path.to_vec();
                    inner.push(name);
                    out.push(line(&inner, &union(cfg, &a.cfg), &a.shown, &decl));
                }
            }
            Item::TraitAlias(t) => {
                let (params, wc) = rw.generics(&t.generics);
                let decl = format!(
                    "pub trait {}{params} = {}{wc}",
                    t.ident,
                    rw.bounds(&t.bounds)
                );
                out.push(line(path, cfg, shown, &decl));
            }
            Item::Type(t) => {
                let (params, wc) = rw.generics(&t.generics);
                let decl = format!("pub type {}{params}{wc} = {}", t.ident, rw.ty(&t.ty));
                out.push(line(path, cfg, shown, &decl));
            }
            Item::Const(c) => {
                let decl = format!("pub const {}: {}", c.ident, rw.ty(&c.ty));
                out.push(line(path, cfg, shown, &decl));
            }
            Item::Static(s) => {
                let mutable = match s.mutability {
                    syn::StaticMutability::Mut(_) => "mut ",
                    _ => "",
                };
                let decl = format!("pub static {mutable}{}: {}", s.ident, rw.ty(&s.ty));
                out.push(line(path, cfg, shown, &decl));
            }
            Item::Fn(f) => {
                let decl = format!("pub {}", rw.sig(&f.sig));
                out.push(line(path, cfg, shown, &decl));
            }
            _ => {}
        }
    }

    /// Lists the public fields; returns the struct's shape: `{..}` or `(..)`
    /// when every field is listed, `;` for a unit struct.
    fn field_lines(
        &self,
        rw: &mut Rewriter<'_>,
        fields: &Fields,
        path: &[String],
        cfg: &[String],
        out: &mut Vec<String>,
    ) -> &'static str {
        let mut unlisted = false;
        for (index, field) in fields.iter().enumerate() {
            let a = read_attrs(&field.attrs);
            if a.test {
                continue;
            }
            if !is_pub(&field.vis) || a.hidden {
                unlisted = true;
                continue;
            }
            let name = field
                .ident
                .as_ref()
                .map_or_else(|| index.to_string(), ToString::to_string);
            let mut inner = path.to_vec();
            inner.push(name.clone());
            let decl = format!("pub {name}: {}", rw.ty(&field.ty));
            out.push(line(&inner, &union(cfg, &a.cfg), &a.shown, &decl));
        }
        match (fields, unlisted) {
            (Fields::Named(_), false) => " {..}",
            (Fields::Named(_), true) => " { /* private fields */ }",
            (Fields::Unnamed(_), false) => "(..)",
            (Fields::Unnamed(_), true) => "(/* private fields */)",
            (Fields::Unit, _) => ";",
        }
    }

    /// `impl Trait for Type` for each derived trait, with the bounds the
    /// derive adds.
    fn derive_lines(
        &self,
        rw: &mut Rewriter<'_>,
        attrs: &Attrs,
        generics: &Generics,
        path: &[String],
        cfg: &[String],
        out: &mut Vec<String>,
    ) {
        for (condition, derived) in &attrs.derives {
            let name = derived
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            let mut trait_text = match (derived.get_ident(), name.as_str()) {
                (Some(_), "Debug") => "std::fmt::Debug".to_string(),
                (Some(_), "Hash") => "std::hash::Hash".to_string(),
                (Some(_), "Clone" | "Copy" | "PartialEq" | "Eq" | "PartialOrd" | "Ord")
                | (Some(_), "Default") => name.clone(),
                _ => rw.path(derived),
            };
            let mut params = Vec::new();
            if name == "Deserialize" {
                params.push("'de".to_string());
                trait_text.push_str("<'de>");
            }
            let mut args = Vec::new();
            let mut g = generics.clone();
            rw.add_scope(&g);
            rw.visit_generics_mut(&mut g);
            for param in &g.params {
                match param {
                    GenericParam::Lifetime(l) => {
                        args.push(l.lifetime.to_string());
                        params.push(render(l.to_token_stream()));
                    }
                    GenericParam::Type(t) => {
                        args.push(t.ident.to_string());
                        let mut bounds = vec![trait_text.clone()];
                        bounds.extend(t.bounds.iter().map(|b| render(b.to_token_stream())));
                        params.push(format!("{}: {}", t.ident, bounds.join(" + ")));
                    }
                    GenericParam::Const(c) => {
                        args.push(c.ident.to_string());
                        params.push(format!(
                            "const {}: {}",
                            c.ident,
                            render(c.ty.to_token_stream())
                        ));
                    }
                }
            }
            let params = if params.is_empty() {
                String::new()
            } else {
                format!("<{}>", params.join(", "))
            };
            let args = if args.is_empty() {
                String::new()
            } else {
                format!("<{}>", args.join(", "))
            };
            let wc = where_clause(&g);
            let decl = format!(
                "impl{params} {trait_text} for {}{args}{wc}",
                path.join("::")
            );
            let cfg = match condition {
                Some(predicate) => union(cfg, std::slice::from_ref(predicate)),
                None => cfg.to_vec(),
            };
            out.push(line(path, &cfg, &[], &decl));
        }
    }

    /// The item of a type written as a path (or a reference to one).
    fn type_def(&self, module: usize, ty: &Type, scope: &BTreeSet<String>) -> Option<usize> {
        match ty {
            Type::Path(tp) if tp.qself.is_none() => {
                let segments: Vec<String> = tp
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                if tp.path.leading_colon.is_none()
                    && (segments[0] == "Self" || scope.contains(&segments[0]))
                {
                    return None;
                }
                let path = UsePath {
                    absolute: tp.path.leading_colon.is_some(),
                    segments,
                };
                match self.best(self.resolve(module, &path, 0))? {
                    Res::Def(d, rest) if rest.is_empty() => Some(d),
                    _ => None,
                }
            }
            Type::Reference(r) => self.type_def(module, &r.elem, scope),
            Type::Paren(p) => self.type_def(module, &p.elem, scope),
            Type::Group(g) => self.type_def(module, &g.elem, scope),
            _ => None,
        }
    }

    fn impl_lines(&self, imp: &Impl, out: &mut Vec<String>) {
        let mut item = imp.item.clone();
        let mut rw = Rewriter::new(self, imp.module);
        rw.add_scope(&item.generics);
        let self_def = self
            .type_def(imp.module, &item.self_ty, &rw.scope)
            .filter(|&d| self.reachable(d));
        let trait_def = item.trait_.as_ref().and_then(|(path, _)| {
            let ty = Type::Path(syn::TypePath {
                attrs: Vec::new(),
                qself: None,
                path: path.clone(),
            });
            self.type_def(imp.module, &ty, &rw.scope)
                .filter(|&d| self.reachable(d))
        });
        rw.found.clear();
        rw.visit_type_mut(&mut item.self_ty);
        let in_self = std::mem::take(&mut rw.found);
        if let Some((path, _)) = &mut item.trait_ {
            rw.visit_path_mut(path);
            rw.rewrite(path);
        }
        let in_trait = std::mem::take(&mut rw.found);
        let owner = match &item.trait_ {
            None => self_def,
            Some(_) => self_def
                .or_else(|| in_self.iter().copied().find(|&d| self.reachable(d)))
                .or(trait_def)
                .or_else(|| in_trait.iter().copied().find(|&d| self.reachable(d))),
        };
        let Some(owner) = owner else {
            return;
        };
        let Some((owner_path, owner_cfg)) = self.def_canonical(owner) else {
            return;
        };
        let cfg = union(owner_cfg, &imp.cfg);
        let (params, wc) = rw.generics(&item.generics);
        let self_ty = render(item.self_ty.to_token_stream());
        match &item.trait_ {
            None => {
                let context = (!params.is_empty() || !wc.is_empty())
                    .then(|| format!("impl{params} {self_ty}{wc}"));
                for inner in &item.items {
                    let (attrs, name, decl) = match inner {
                        ImplItem::Fn(f) if is_pub(&f.vis) => (
                            &f.attrs,
                            f.sig.ident.to_string(),
                            format!("pub {}", rw.sig(&f.sig)),
                        ),
                        ImplItem::Const(c) if is_pub(&c.vis) => (
                            &c.attrs,
                            c.ident.to_string(),
                            format!("pub const {}: {}", c.ident, rw.ty(&c.ty)),
                        ),
                        _ => continue,
                    };
                    let a = read_attrs(attrs);
                    if a.test || a.hidden {
                        continue;
                    }
                    let decl = match &context {
                        Some(context) => format!("{context} {{ {decl} }}"),
                        None => decl,
                    };
                    let mut path = owner_path.clone();
                    path.push(name);
                    out.push(line(&path, &union(&cfg, &a.cfg), &a.shown, &decl));
                }
            }
            Some((trait_path, _)) => {
                let mut associated = Vec::new();
                for inner in &item.items {
                    match inner {
                        ImplItem::Type(t) if !read_attrs(&t.attrs).test => {
                            let mut scoped = rw.scoped(&t.generics);
                            let (params, _) = scoped.generics(&t.generics);
                            associated.push(format!(
                                "type {}{params} = {};",
                                t.ident,
                                scoped.ty(&t.ty)
                            ));
                        }
                        ImplItem::Const(c) if !read_attrs(&c.attrs).test => {
                            associated.push(format!("const {}: {};", c.ident, rw.ty(&c.ty)));
                        }
                        _ => {}
                    }
                }
                let associated = if associated.is_empty() {
                    String::new()
                } else {
                    format!(" {{ {} }}", associated.join(" "))
                };
                let decl = format!(
                    "{}impl{params} {}{} for {self_ty}{wc}{associated}",
                    if item.unsafety.is_some() {
                        "unsafe "
                    } else {
                        ""
                    },
                    if item.modifiers.polarity.is_some() {
                        "!"
                    } else {
                        ""
                    },
                    render(trait_path.to_token_stream()),
                );
                out.push(line(owner_path, &cfg, &[], &decl));
            }
        }
    }
}

/// The path an item is listed under: of those that end with its own name
/// (not a `pub use ... as` rename), the shortest, then the first.
fn canonical<'p>(paths: &'p [Reached], name: Option<&String>) -> Option<&'p Reached> {
    paths
        .iter()
        .min_by_key(|(path, _)| (path.last() != name, path.len(), path))
}

/// A `pub use` line for each other path an item or module is reachable at.
fn aliases(path: &[String], paths: &[Reached], out: &mut Vec<String>) {
    for (alias, cfg) in paths {
        if alias.as_slice() != path {
            out.push(line(
                alias,
                cfg,
                &[],
                &format!("pub use {}", path.join("::")),
            ));
        }
    }
}

fn line(path: &[String], cfg: &[String], attributes: &[String], declaration: &str) -> String {
    let mut out = path.join("::");
    out.push_str(": ");
    for predicate in cfg {
        out.push('[');
        out.push_str(predicate);
        out.push_str("] ");
    }
    for attribute in attributes {
        out.push_str(attribute);
        out.push(' ');
    }
    out.push_str(declaration);
    out
}

/// What the standard library's prelude names without a path.
const PRELUDE: &[&str] = &[
    "std::borrow::ToOwned",
    "std::boxed::Box",
    "std::clone::Clone",
    "std::cmp::Eq",
    "std::cmp::Ord",
    "std::cmp::PartialEq",
    "std::cmp::PartialOrd",
    "std::convert::AsMut",
    "std::convert::AsRef",
    "std::convert::From",
    "std::convert::Into",
    "std::convert::TryFrom",
    "std::convert::TryInto",
    "std::default::Default",
    "std::iter::DoubleEndedIterator",
    "std::iter::ExactSizeIterator",
    "std::iter::Extend",
    "std::iter::FromIterator",
    "std::iter::IntoIterator",
    "std::iter::Iterator",
    "std::marker::Copy",
    "std::marker::Send",
    "std::marker::Sized",
    "std::marker::Sync",
    "std::marker::Unpin",
    "std::ops::Drop",
    "std::ops::Fn",
    "std::ops::FnMut",
    "std::ops::FnOnce",
    "std::option::Option",
    "std::result::Result",
    "std::string::String",
    "std::string::ToString",
    "std::vec::Vec",
];

/// A foreign path as listed: `core` and `alloc` as `std`, the prelude's
/// items by their names.
fn external(path: &[String]) -> Vec<String> {
    let mut path = path.to_vec();
    if matches!(path.first().map(String::as_str), Some("core" | "alloc")) {
        path[0] = "std".to_string();
    }
    if PRELUDE.contains(&path.join("::").as_str()) {
        return path.split_off(path.len() - 1);
    }
    path
}

fn where_clause(generics: &Generics) -> String {
    match &generics.where_clause {
        Some(w) if !w.predicates.is_empty() => format!(" {}", render(w.to_token_stream())),
        _ => String::new(),
    }
}

fn ident(name: &str) -> syn::Ident {
    let span = proc_macro2::Span::call_site();
    match name.strip_prefix("r#") {
        Some(raw) => syn::Ident::new_raw(raw, span),
        None => syn::Ident::new(name, span),
    }
}

/// Rewrites the paths of types and bounds to the paths they are listed by.
struct Rewriter<'a> {
    krate: &'a Crate,
    module: usize,
    /// Generic parameters in scope, which are not paths.
    scope: BTreeSet<String>,
    /// The local items the rewritten paths named.
    found: Vec<usize>,
}

impl<'a> Rewriter<'a> {
    fn new(krate: &'a Crate, module: usize) -> Self {
        Rewriter {
            krate,
            module,
            scope: BTreeSet::new(),
            found: Vec::new(),
        }
    }

    fn add_scope(&mut self, generics: &Generics) {
        for param in &generics.params {
            match param {
                GenericParam::Type(t) => self.scope.insert(t.ident.to_string()),
                GenericParam::Const(c) => self.scope.insert(c.ident.to_string()),
                GenericParam::Lifetime(_) => false,
            };
        }
    }

    fn scoped(&self, generics: &Generics) -> Rewriter<'a> {
        let mut inner = Rewriter {
            krate: self.krate,
            module: self.module,
            scope: self.scope.clone(),
            found: Vec::new(),
        };
        inner.add_scope(generics);
        inner
    }

    fn rewrite(&mut self, path: &mut syn::Path) {
        let Some(last) = path.segments.last() else {
            return;
        };
        let before_last = path.segments.len() - 1;
        if path
            .segments
            .iter()
            .take(before_last)
            .any(|s| !s.arguments.is_none())
        {
            return;
        }
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if path.leading_colon.is_none()
            && (segments[0] == "Self" || self.scope.contains(&segments[0]))
        {
            return;
        }
        let arguments = last.arguments.clone();
        let use_path = UsePath {
            absolute: path.leading_colon.is_some(),
            segments,
        };
        let Some(res) = self
            .krate
            .best(self.krate.resolve(self.module, &use_path, 0))
        else {
            return;
        };
        if let Res::Def(d, _) = &res {
            self.found.push(*d);
        }
        let names = self.krate.res_path(&res);
        let mut rewritten = syn::Path {
            leading_colon: None,
            segments: syn::punctuated::Punctuated::new(),
        };
        for name in names {
            rewritten.segments.push(syn::PathSegment {
                ident: ident(&name),
                arguments: syn::PathArguments::None,
            });
        }
        if let Some(last) = rewritten.segments.last_mut() {
            last.arguments = arguments;
        }
        *path = rewritten;
    }

    fn ty(&mut self, ty: &Type) -> String {
        let mut ty = ty.clone();
        self.visit_type_mut(&mut ty);
        render(ty.to_token_stream())
    }

    fn path(&mut self, path: &syn::Path) -> String {
        let mut path = path.clone();
        self.visit_path_mut(&mut path);
        self.rewrite(&mut path);
        render(path.to_token_stream())
    }

    fn bounds(
        &mut self,
        bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>,
    ) -> String {
        let mut bounds = bounds.clone();
        for bound in bounds.iter_mut() {
            self.visit_type_param_bound_mut(bound);
        }
        render(bounds.to_token_stream())
    }

    /// The generic parameters and the where clause (with a space before it).
    fn generics(&mut self, generics: &Generics) -> (String, String) {
        let mut generics = generics.clone();
        self.add_scope(&generics);
        for param in generics.params.iter_mut() {
            match param {
                GenericParam::Lifetime(l) => l.attrs.clear(),
                GenericParam::Type(t) => t.attrs.clear(),
                GenericParam::Const(c) => c.attrs.clear(),
            }
        }
        self.visit_generics_mut(&mut generics);
        (render(generics.to_token_stream()), where_clause(&generics))
    }

    fn sig(&mut self, sig: &Signature) -> String {
        let mut sig = sig.clone();
        let mut inner = self.scoped(&sig.generics);
        for input in sig.inputs.iter_mut() {
            match input {
                FnArg::Receiver(r) => {
                    r.attrs.clear();
                    r.mutability = None;
                }
                FnArg::Typed(t) => {
                    t.attrs.clear();
                    if let Pat::Ident(p) = &mut *t.pat {
                        p.attrs.clear();
                        p.mutability = None;
                    }
                }
            }
        }
        for param in sig.generics.params.iter_mut() {
            match param {
                GenericParam::Lifetime(l) => l.attrs.clear(),
                GenericParam::Type(t) => t.attrs.clear(),
                GenericParam::Const(c) => c.attrs.clear(),
            }
        }
        inner.visit_signature_mut(&mut sig);
        self.found.extend(inner.found);
        render(sig.to_token_stream())
    }
}

impl VisitMut for Rewriter<'_> {
    fn visit_type_path_mut(&mut self, ty: &mut syn::TypePath) {
        visit_mut::visit_type_path_mut(self, ty);
        if ty.qself.is_none() {
            self.rewrite(&mut ty.path);
        }
    }

    fn visit_trait_bound_mut(&mut self, bound: &mut syn::TraitBound) {
        visit_mut::visit_trait_bound_mut(self, bound);
        self.rewrite(&mut bound.path);
    }

    // Expressions (array lengths, const arguments), attributes and macros
    // are kept as written.
    fn visit_expr_mut(&mut self, _: &mut syn::Expr) {}

    fn visit_attribute_mut(&mut self, _: &mut Attribute) {}

    fn visit_macro_mut(&mut self, _: &mut syn::Macro) {}
}

// ---------------------------------------------------------------------------
// Tokens as text.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Op(String),
    Open(char),
    Close(char),
}

fn flatten(tokens: TokenStream, out: &mut Vec<Tok>) {
    let mut iter = tokens.into_iter().peekable();
    while let Some(token) = iter.next() {
        match token {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ('(', ')'),
                    Delimiter::Bracket => ('[', ']'),
                    Delimiter::Brace => ('{', '}'),
                    Delimiter::None => {
                        flatten(g.stream(), out);
                        continue;
                    }
                };
                out.push(Tok::Open(open));
                flatten(g.stream(), out);
                out.push(Tok::Close(close));
            }
            TokenTree::Ident(i) => out.push(Tok::Word(i.to_string())),
            TokenTree::Literal(l) => out.push(Tok::Word(l.to_string())),
            TokenTree::Punct(p) => {
                let c = p.as_char();
                if c == '\''
                    && let Some(TokenTree::Ident(i)) = iter.peek()
                {
                    let lifetime = format!("'{i}");
                    iter.next();
                    out.push(Tok::Word(lifetime));
                    continue;
                }
                let mut op = c.to_string();
                if p.spacing() == Spacing::Joint
                    && let Some(TokenTree::Punct(next)) = iter.peek()
                {
                    let two = format!("{c}{}", next.as_char());
                    if matches!(two.as_str(), "::" | "->" | "=>" | "..") {
                        op = two;
                        iter.next();
                    }
                }
                out.push(Tok::Op(op));
            }
        }
    }
}

const KEYWORDS: &[&str] = &[
    "as", "async", "const", "dyn", "else", "extern", "for", "impl", "in", "move", "mut", "pub",
    "ref", "static", "unsafe", "where",
];

/// Whether a space goes between two tokens of a type, a signature, a bound
/// or a cfg predicate.
fn spaced(prev: &Tok, next: &Tok) -> bool {
    use Tok::{Close, Op, Open, Word};
    let op = |t: &Tok, set: &[&str]| matches!(t, Op(o) if set.contains(&o.as_str()));
    let keyword = |t: &Tok| matches!(t, Word(w) if KEYWORDS.contains(&w.as_str()));
    if matches!(prev, Open(_)) || matches!(next, Close(_)) {
        return false;
    }
    if op(next, &[",", ";"]) {
        return false;
    }
    if op(prev, &[",", ";"]) {
        return true;
    }
    if op(next, &["::"]) {
        return keyword(prev);
    }
    if op(prev, &["::"]) {
        return false;
    }
    if op(next, &[":"]) {
        return false;
    }
    if op(prev, &[":"]) {
        return true;
    }
    if op(prev, &["->", "=>", "=", "+"]) || op(next, &["->", "=>", "=", "+"]) {
        return true;
    }
    if op(next, &["<", ">"]) || op(prev, &["<"]) {
        return false;
    }
    if op(prev, &[">"]) {
        return matches!(next, Word(_) | Open('{'));
    }
    match (prev, next) {
        (Op(_), _) => false,
        (Word(_), Op(_)) => keyword(prev),
        (Word(w), Open(c)) => *c == '{' || (keyword(prev) && w != "fn"),
        (Close(_), Open(c)) => *c == '{',
        _ => true,
    }
}

/// Tokens as one line of text, spaced as rustfmt would, without trailing
/// commas.
fn render(tokens: TokenStream) -> String {
    let mut toks = Vec::new();
    flatten(tokens, &mut toks);
    // A comma before a closing bracket, a `>`, a `{` or the end goes.
    let mut kept: Vec<Tok> = Vec::new();
    for (i, tok) in toks.iter().enumerate() {
        let next = toks.get(i + 1);
        let trailing = matches!(tok, Tok::Op(o) if o == ",")
            && match next {
                None => true,
                Some(Tok::Close(_)) | Some(Tok::Open('{')) => true,
                Some(Tok::Op(o)) => o == ">",
                _ => false,
            };
        if !trailing {
            kept.push(tok.clone());
        }
    }
    let mut out = String::new();
    for (i, tok) in kept.iter().enumerate() {
        if i > 0 && spaced(&kept[i - 1], tok) {
            out.push(' ');
        }
        match tok {
            Tok::Word(w) | Tok::Op(w) => out.push_str(w),
            Tok::Open(c) | Tok::Close(c) => out.push(*c),
        }
    }
    out
}
