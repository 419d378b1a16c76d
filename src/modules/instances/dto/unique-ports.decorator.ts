import { ValidationOptions, registerDecorator } from 'class-validator';

/** Each container port may be mapped once; Novita refuses a port listed twice. */
export function IsUniquePorts(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isUniquePorts',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: 'ports must not list the same port twice', ...options },
      validator: {
        validate: (value: unknown) => {
          if (!Array.isArray(value)) return true;
          const numbers = value.map((p: { port?: unknown } | null) => p?.port);
          return new Set(numbers).size === numbers.length;
        },
      },
    });
  };
}
