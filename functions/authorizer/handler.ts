// Placeholder until the request path lands; replaced in the next commit.
export const handler = async (): Promise<never> => {
  throw new Error('not implemented');
};
