import { ValidationOptions, registerDecorator } from 'class-validator';
import { webhookUrlSyntaxProblem } from './webhook-url.policy';

/**
 * DTO-level check for webhook URLs: http(s) and well-formed. DTOs cannot see the configuration, so
 * the private/loopback refusal happens in the service (WebhooksService.assertUrlAllowed).
 */
export function IsWebhookUrl(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isWebhookUrl',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => webhookUrlSyntaxProblem(value) === null,
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} ${webhookUrlSyntaxProblem(args?.value) ?? 'is invalid'}`,
      },
    });
  };
}
