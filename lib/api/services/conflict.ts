import { Prisma } from '../../generated/prisma/client';
import { ApiError } from '../errors';

/** Runs `fn`; a unique-constraint violation becomes a 409 with a message that names the value. */
export async function conflictAs<T>(message: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw new ApiError('conflict', 409, message);
    throw error;
  }
}
