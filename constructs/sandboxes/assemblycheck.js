// The sandbox assembly check: what a sandbox's build runs on the cloud assembly the service's
// app synthesized, before anything is deployed (and, with --names-only, before a destroy).
//
//   node assemblycheck.js <cloud assembly directory> <stack name suffix> [--names-only]
//
// It fails (exit 1), listing every problem at once, unless
//   - every stack of the assembly, nested assemblies (CDK Stages) included, has a stack name
//     ending with the suffix (-sandbox-<name>): a sandbox can never update, or destroy, the
//     environment's own stacks;
//   - no resource of any stack template, nested stack templates included, has a DeletionPolicy
//     or UpdateReplacePolicy other than Delete (Retain, RetainExceptOnCreate, Snapshot, or
//     anything not a plain string), and no RDS cluster or instance relies on CloudFormation's
//     default for its type, which is Snapshot: what a sandbox creates dies with it.
// --names-only checks the stack names only (the destroy's guard: a destroy must never reach a
// stack that is not the sandbox's own).
//
// Plain Node (18 or later), no dependency: it is embedded in the Go package
// github.com/platform-eng/pathtoprod/constructs/sandboxes and written to a file by the build.
'use strict';

const fs = require('fs');
const path = require('path');

// Deletion and replacement policies that leave something behind when the sandbox is destroyed.
const KEEPS = ['Retain', 'RetainExceptOnCreate', 'Snapshot'];
// Types whose DeletionPolicy, when absent, is Snapshot (CloudFormation's DeletionPolicy
// attribute documentation); for AWS::RDS::DBInstance only without DBClusterIdentifier.
const SNAPSHOT_BY_DEFAULT = ['AWS::RDS::DBCluster', 'AWS::RDS::DBInstance'];

const HELP_SUFFIX =
  'Name every stack with sandboxes.StackName(base) (package github.com/platform-eng/pathtoprod/constructs/sandboxes):\n' +
  'in a sandbox it appends -sandbox-<name> to the stack name, so a sandbox can never update the environment\'s own stacks.';
const HELP_RETAIN =
  'Call sandboxes.Apply(app) in the service\'s CDK app: in a sandbox it sets RemovalPolicy DESTROY on every resource\n' +
  '(and turns off deletion protection), so destroying the sandbox deletes what it created. A resource that must\n' +
  'outlive its stack cannot be part of a sandbox: leave it out of the app when sandboxes.Name() is not "".';

class CheckError extends Error {}

function readJSON(file, what) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new CheckError(`cannot read ${what} ${file}: ${e.code || e.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckError(`${what} ${file} is not JSON: ${e.message}`);
  }
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// A directory inside dir, never outside it (a manifest names nested assemblies and templates).
function inside(dir, name, what) {
  if (typeof name !== 'string' || name === '' || path.isAbsolute(name) || name.split(/[\\/]/).includes('..')) {
    throw new CheckError(`${what} ${JSON.stringify(name)} in ${dir}/manifest.json is not a file name inside the assembly`);
  }
  return path.join(dir, name);
}

// resourceProblems lists the resources of one template that would outlive the sandbox.
function resourceProblems(template, where) {
  const out = [];
  const resources = isObject(template.Resources) ? template.Resources : {};
  for (const id of Object.keys(resources).sort()) {
    const r = resources[id];
    if (!isObject(r)) continue;
    const type = typeof r.Type === 'string' ? r.Type : '?';
    for (const attr of ['DeletionPolicy', 'UpdateReplacePolicy']) {
      if (!(attr in r) || r[attr] === 'Delete') continue;
      const v = r[attr];
      const why = KEEPS.includes(v) ? '' : ' (not a literal Delete, so it cannot be shown to delete)';
      out.push(`${where}: resource ${id} (${type}): ${attr} ${typeof v === 'string' ? v : JSON.stringify(v)}${why}`);
    }
    const props = isObject(r.Properties) ? r.Properties : {};
    if (!('DeletionPolicy' in r) && SNAPSHOT_BY_DEFAULT.includes(type) &&
        !(type === 'AWS::RDS::DBInstance' && 'DBClusterIdentifier' in props)) {
      out.push(`${where}: resource ${id} (${type}): no DeletionPolicy, which for ${type} means Snapshot`);
    }
  }
  return out;
}

// checkAssembly checks one assembly directory and the nested assemblies it names.
function checkAssembly(dir, suffix, namesOnly, seen, result) {
  const real = safeRealpath(dir); // a manifest naming itself, or its parent, is read once
  if (seen.has(real)) return;
  seen.add(real);
  const manifest = readJSON(path.join(dir, 'manifest.json'), 'cloud assembly manifest');
  if (!isObject(manifest) || (manifest.artifacts !== undefined && !isObject(manifest.artifacts))) {
    throw new CheckError(`cloud assembly manifest ${path.join(dir, 'manifest.json')} has no "artifacts" object`);
  }
  const artifacts = manifest.artifacts || {};
  const scanned = new Set();
  for (const id of Object.keys(artifacts).sort()) {
    const a = artifacts[id];
    if (!isObject(a)) continue;
    const props = isObject(a.properties) ? a.properties : {};
    if (a.type === 'cdk:cloud-assembly') {
      checkAssembly(inside(dir, props.directoryName, 'nested assembly directory'), suffix, namesOnly, seen, result);
      continue;
    }
    if (a.type !== 'aws:cloudformation:stack') continue;
    result.stacks++;
    const stackName = typeof props.stackName === 'string' && props.stackName !== '' ? props.stackName : id;
    const display = a.displayName || id;
    if (!stackName.endsWith(suffix)) {
      result.names.push(`stack ${display}: stack name "${stackName}" does not end with "${suffix}"`);
    }
    if (namesOnly) continue;
    const file = inside(dir, props.templateFile, 'template file');
    scanned.add(path.basename(file));
    result.retained.push(...resourceProblems(readJSON(file, 'template of stack ' + display), `stack ${display}`));
  }
  if (namesOnly) return;
  // Nested stacks' templates sit beside their parent's, named <...>.nested.template.json.
  for (const f of fs.readdirSync(dir).sort()) {
    if (!f.endsWith('.nested.template.json') || scanned.has(f)) continue;
    result.retained.push(...resourceProblems(readJSON(path.join(dir, f), 'nested stack template'), `nested stack template ${f}`));
  }
}

function safeRealpath(p) {
  try {
    return fs.realpathSync(p);
  } catch (e) {
    return path.resolve(p);
  }
}

function main(argv) {
  const [dir, suffix, mode, ...extra] = argv;
  if (!dir || !suffix || extra.length > 0 || (mode !== undefined && mode !== '--names-only')) {
    console.error('usage: node assemblycheck.js <cloud assembly directory> <stack name suffix> [--names-only]');
    return 2;
  }
  const namesOnly = mode === '--names-only';
  const result = { stacks: 0, names: [], retained: [] };
  try {
    checkAssembly(dir, suffix, namesOnly, new Set(), result);
  } catch (e) {
    if (!(e instanceof CheckError)) throw e;
    console.error(`sandbox assembly check FAILED: ${e.message}`);
    console.error(`Nothing was ${namesOnly ? 'destroyed' : 'deployed'}. The assembly is what \`cdk synth -o ${dir}\` writes.`);
    return 1;
  }
  if (result.stacks === 0) {
    console.error(`sandbox assembly check FAILED: the cloud assembly in ${dir} has no stack: the app synthesized nothing to deploy.`);
    return 1;
  }
  const problems = result.names.length + result.retained.length;
  if (problems === 0) {
    console.log(namesOnly
      ? `sandbox assembly check: all ${result.stacks} stack name(s) in ${dir} end with "${suffix}".`
      : `sandbox assembly check: ${result.stacks} stack(s) in ${dir}; every stack name ends with "${suffix}" and no resource outlives the sandbox.`);
    return 0;
  }
  console.error(`sandbox assembly check FAILED: ${problems} problem(s) in ${dir}; nothing was ${namesOnly ? 'destroyed' : 'deployed'}:`);
  for (const p of result.names.concat(result.retained)) console.error('  ' + p);
  if (result.names.length > 0) console.error(HELP_SUFFIX);
  if (result.retained.length > 0) console.error(HELP_RETAIN);
  return 1;
}

process.exitCode = main(process.argv.slice(2));
