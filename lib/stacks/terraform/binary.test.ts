import assert from 'node:assert/strict';
import { test } from 'node:test';
import { binaryFor, terraformBinaries, UnknownBinaryError } from './binary';

test('BUILDIT_TERRAFORM_BINS names binaries; BUILDIT_TERRAFORM_BIN stays the default', () => {
  const binaries = terraformBinaries({
    BUILDIT_TERRAFORM_BIN: '/opt/tf/terraform',
    BUILDIT_TERRAFORM_BINS: ' tofu=/usr/bin/tofu , terraform-1.9=/opt/1.9/terraform,',
  });
  assert.equal(binaries.default, '/opt/tf/terraform');
  assert.deepEqual(
    [...binaries.named],
    [
      ['tofu', '/usr/bin/tofu'],
      ['terraform-1.9', '/opt/1.9/terraform'],
    ],
  );
  assert.equal(binaryFor(binaries, null), '/opt/tf/terraform');
  assert.equal(binaryFor(binaries, 'tofu'), '/usr/bin/tofu');
  assert.equal(terraformBinaries({}).default, 'terraform');
  assert.equal(terraformBinaries({}).named.size, 0);
});

test('a malformed BUILDIT_TERRAFORM_BINS stops the worker with what is wrong', () => {
  assert.throws(() => terraformBinaries({ BUILDIT_TERRAFORM_BINS: '/usr/bin/tofu' }), /"\/usr\/bin\/tofu" is not NAME=PATH/);
  assert.throws(() => terraformBinaries({ BUILDIT_TERRAFORM_BINS: 'bad name=/x' }), /is not NAME=PATH/);
  assert.throws(() => terraformBinaries({ BUILDIT_TERRAFORM_BINS: 'tofu=' }), /is not NAME=PATH/);
  assert.throws(() => terraformBinaries({ BUILDIT_TERRAFORM_BINS: 'tofu=/a,tofu=/b' }), /names "tofu" twice/);
});

test('a name the worker does not have is refused with the names it has', () => {
  const binaries = terraformBinaries({ BUILDIT_TERRAFORM_BINS: 'tofu=/usr/bin/tofu,tf19=/opt/tf19' });
  assert.throws(
    () => binaryFor(binaries, 'terraform-1.5'),
    (error: unknown) => {
      assert.ok(error instanceof UnknownBinaryError);
      assert.match(error.message, /"terraform-1\.5", which this worker does not have; its named binaries: "tofu", "tf19"/);
      assert.match(error.message, /BUILDIT_TERRAFORM_BINS/);
      return true;
    },
  );
  assert.throws(() => binaryFor(terraformBinaries({}), 'tofu'), /its named binaries: none \(only its default\)/);
});
