#!/usr/bin/env node
// Every public function, class and interface of every published package (what packages/*/src/index.ts
// exports) has a doc comment with an @example, and every member of an exported interface and every
// public member of an exported class has a description. typedoc (`pnpm docs:api`, validation.notDocumented) checks that descriptions exist;
// this checks the examples, which typedoc does not. Usage: node scripts/check-doc-examples.mjs
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import ts from "typescript";

const root = resolve(import.meta.dirname, "..");
const problems = [];
let checked = 0;

/** The JSDoc tags of a declaration (the comment right above it). */
function tags(node) {
  return ts.getJSDocTags(node).map((t) => t.tagName.text);
}

function hasDoc(node) {
  return ts.getJSDocCommentsAndTags(node).some((d) => ts.isJSDoc(d) && ((typeof d.comment === "string" && d.comment.trim() !== "") || (Array.isArray(d.comment) && d.comment.length > 0)));
}

/** Whether a base class or implemented interface of `cls` documents member `name` (typedoc shows that doc). */
function inheritsDoc(checker, cls, name) {
  for (const clause of cls.heritageClauses ?? []) {
    for (const t of clause.types) {
      const symbol = checker.getTypeAtLocation(t).getProperty(name);
      if (symbol && symbol.getDocumentationComment(checker).length > 0) return true;
    }
  }
  return false;
}

for (const name of readdirSync(join(root, "packages")).sort()) {
  const dir = join(root, "packages", name);
  const index = join(dir, "src", "index.ts");
  if (!existsSync(index)) continue;
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  if (pkg.private) continue;
  const program = ts.createProgram([index], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, allowImportingTsExtensions: true, noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(index));
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    for (const decl of symbol.declarations ?? []) {
      if (!decl.getSourceFile().fileName.startsWith(join(dir, "src"))) continue;
      const where = `${pkg.name} ${exported.name}`;
      if (tags(decl).includes("internal")) continue;
      const isFunction = ts.isFunctionDeclaration(decl);
      const isClass = ts.isClassDeclaration(decl);
      const isInterface = ts.isInterfaceDeclaration(decl);
      if (!isFunction && !isClass && !isInterface) continue;
      checked++;
      if (!tags(decl).includes("example")) problems.push(`${where}: no @example in its doc comment`);
      if (isInterface) {
        for (const member of decl.members) {
          if (!hasDoc(member)) problems.push(`${where}.${member.name?.getText() ?? "(call signature)"}: no description`);
        }
      }
      if (isClass) {
        // Public members a user calls or reads: methods, properties, accessors (the class's own doc
        // comment covers its constructor). A setter documented on its getter, and overloads documented
        // once, count as described.
        const described = new Set();
        for (const member of decl.members) {
          const key = member.name?.getText() ?? (ts.isConstructorDeclaration(member) ? "constructor" : "");
          if (hasDoc(member)) described.add(key);
        }
        for (const member of decl.members) {
          if (ts.isClassStaticBlockDeclaration(member) || ts.isIndexSignatureDeclaration(member) || ts.isSemicolonClassElement(member)) continue;
          const mods = ts.getCombinedModifierFlags(member);
          if (mods & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
          if (member.name && ts.isPrivateIdentifier(member.name)) continue;
          if (tags(member).includes("internal")) continue;
          const key = member.name?.getText() ?? (ts.isConstructorDeclaration(member) ? "constructor" : "");
          if (ts.isConstructorDeclaration(member)) continue;
          if (!described.has(key) && !inheritsDoc(checker, decl, key)) problems.push(`${where}.${key}: no description`);
        }
      }
    }
  }
}
if (problems.length > 0) {
  for (const p of problems) console.error(`docs: ${p}`);
  console.error(`docs: ${problems.length} problem(s) in ${checked} public functions, classes and interfaces`);
  process.exit(1);
}
console.log(`docs: ${checked} public functions, classes and interfaces have an @example; every interface member and public class member is described`);
